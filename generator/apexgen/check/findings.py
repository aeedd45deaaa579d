"""What a check finds, and the project files it looks at: shared by the fast and the deep check."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from apexgen.errors import ApexgenError

APEX_SUFFIXES = (".cls", ".trigger")
# Folders that never hold project source: tool caches, VCS data, installed packages.
SKIPPED_DIRS = {"node_modules", ".git", ".sfdx", ".sf", ".apexgen", "__pycache__"}


@dataclass(frozen=True, order=True)
class Finding:
    file: str  # path relative to the project root, posix
    line: int  # 1-based; 0 when the finding is about the whole file
    column: int  # 1-based; 0 when unknown
    severity: str  # "error" | "warning"
    tool: str  # spec | manifest | xsd | sfdx-schema | meta | jorje | apex-ls | pmd | prettier
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column} {self.severity} {self.tool} {self.rule} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ToolFailedError(ApexgenError):
    """A checking tool crashed or answered in a way that cannot be read: its result is unknown."""

    def __init__(self, tool: str, reason: str):
        super().__init__(f"{tool} failed: {reason}")


def last_line(*outputs: str | bytes) -> str:
    """The last non-blank line of the first output that has one: what a failing tool said last."""
    for output in outputs:
        text = output.decode(errors="replace") if isinstance(output, bytes) else output or ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no output"


def summarize(findings: list[Finding]) -> dict[str, int]:
    errors = sum(1 for f in findings if f.severity == "error")
    return {"errors": errors, "warnings": len(findings) - errors}


@dataclass
class ProjectFiles:
    """The project a check looks at: its root, its package directories, its source API version."""

    root: Path
    package_dirs: list[Path]
    source_api_version: str | None

    def relative(self, path: Path | str) -> str:
        return Path(os.path.relpath(Path(path).resolve(), self.root)).as_posix()

    def files(self, keep: Callable[[str], bool]) -> list[Path]:
        """Files under the package directories whose name ``keep`` accepts, sorted."""
        found: set[Path] = set()
        for package_dir in self.package_dirs:
            for folder, dirs, names in os.walk(package_dir):
                dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
                found.update(Path(folder, name) for name in names if keep(name))
        return sorted(found)

    def apex_files(self) -> list[Path]:
        return self.files(lambda name: name.endswith(APEX_SUFFIXES))
