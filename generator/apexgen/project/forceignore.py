"""``.forceignore``: the files of an SFDX project that the sf CLI leaves out of a conversion or deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_forceignore(root: Path) -> Any:
    """A matcher for ``.forceignore`` (gitignore rules, as the sf CLI reads it), or None when there is none."""
    ignore_file = root / ".forceignore"
    if not ignore_file.is_file():
        return None
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(ignore_file.read_text(encoding="utf-8").splitlines())
