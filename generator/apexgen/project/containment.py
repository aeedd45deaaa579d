"""Paths that project files name (the manifest, the spec, sfdx-project.json) must stay inside the project.

Those files are committed, so a pull request can change them: a path in one of them is resolved, with
symlinks followed, and refused unless the place it leads to lies inside the project folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# A Windows drive or UNC start: absolute there, and never a relative path here.
_WINDOWS_ABSOLUTE = re.compile(r"[A-Za-z]:|[\\/]{2}|\\")


class ProjectPaths:
    """Checks paths against one project. Generated files share few folders, so each folder is resolved
    once, and the rest is string work: a manifest of 3,000 files is checked in milliseconds."""

    def __init__(self, root: Path):
        self.root = root
        self.real_root = root.resolve()
        self._folders: dict[str, Path | None] = {}

    def outside_reason(self, relative: str) -> str | None:
        """Why ``relative`` does not name a place inside the project, or None when it does.

        Symlinks on the way are followed: one that leads out of the project is refused like ``..`` is.
        """
        if not relative:
            return "must not be empty"
        if "\x00" in relative:
            return f"{relative!r} must not hold a NUL character"
        if relative.startswith("/") or _WINDOWS_ABSOLUTE.match(relative):
            return f"'{relative}' must be a path relative to the project folder, not an absolute one"
        if ".." in relative.replace("\\", "/").split("/"):
            return f"'{relative}' must not leave the project folder with '..'"
        folder = relative.rpartition("/")[0]
        try:
            if folder not in self._folders:
                self._folders[folder] = self._escape(folder)
            escape = self._folders[folder]
            if escape is None and os.path.islink(os.path.join(self.root, relative)):
                escape = self._escape(relative)
        except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte
            return f"'{relative}' cannot be resolved ({exc})"
        if escape is not None:
            return f"'{relative}' leads outside the project folder (to {escape}) through a symlink"
        return None

    def _escape(self, relative: str) -> Path | None:
        """Where ``relative`` really leads, when that is outside the project; else None."""
        real = (self.real_root / relative).resolve()
        return None if real == self.real_root or self.real_root in real.parents else real


def outside_reason(root: Path, relative: str) -> str | None:
    """Why ``relative`` does not name a place inside the project at ``root``, or None when it does."""
    return ProjectPaths(root).outside_reason(relative)


def is_inside(root: Path, path: Path) -> bool:
    """``path`` (absolute, symlinks followed) lies in the project at ``root``."""
    real_root = root.resolve()
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return real == real_root or real_root in real.parents
