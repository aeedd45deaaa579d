"""Every path apexgen reads from a project stays inside the project: one rule for check, convert and deploy.

Paths that project files name (the manifest, the spec, sfdx-project.json) are committed, so a pull request
can change them: a path in one of them is resolved, with symlinks followed, and refused unless the place it
leads to lies inside the project folder. The files under a package directory are walked by ``walk`` alone
(the check and the converter both), which follows a symlink only when it stays inside the project and
refuses, with one line naming it, one that leads out, one that leads nowhere or into a folder it lies in,
and anything that is neither a file nor a folder (reading a FIFO would hang).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from apexgen.errors import UsageError

# A Windows drive or UNC start: absolute there, and never a relative path here.
_WINDOWS_ABSOLUTE = re.compile(r"[A-Za-z]:|[\\/]{2}|\\")


class UnsafeEntry(UsageError):
    """A file or folder under a package directory that apexgen does not read (exit 2): the message names it."""


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

    def is_folder(self, path: str) -> bool:
        """Whether ``path``, an entry found under a package directory, is a folder (else a file); UnsafeEntry
        for an entry apexgen does not read (see the module's docstring)."""
        shown = os.path.relpath(path, self.root)
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                real = Path(os.path.realpath(path))
                if not (real == self.real_root or self.real_root in real.parents):
                    raise UnsafeEntry(
                        f"{shown}: a symbolic link that leads outside the project (to {real}); "
                        "apexgen reads only the project's own files"
                    )
                if not real.exists():
                    raise UnsafeEntry(f"{shown}: a symbolic link to nothing ({os.readlink(path)})")
                info = os.stat(path)
                holder = Path(os.path.realpath(os.path.dirname(path) or "."))
                if stat.S_ISDIR(info.st_mode) and (real == holder or real in holder.parents):
                    raise UnsafeEntry(f"{shown}: a symbolic link to a folder it lies in (a loop)")
        except OSError as exc:
            raise UnsafeEntry(f"{shown}: cannot be read ({exc.strerror})") from None
        if stat.S_ISDIR(info.st_mode):
            return True
        if stat.S_ISREG(info.st_mode):
            return False
        raise UnsafeEntry(f"{shown}: neither a file nor a folder (a FIFO, socket or device); apexgen does not read it")

    def walk(
        self, folder: str, skipped: Callable[[str], bool], listing: Callable[[str], list[str]] | None = None
    ) -> Iterator[str]:
        """The files under ``folder``, depth first in the order ``listing`` gives each folder's names, leaving
        out each path ``skipped`` accepts (a folder with all it holds); every entry goes through ``is_folder``."""
        for name in (listing or self.listing)(folder):
            path = f"{folder}/{name}"
            if skipped(path):
                continue
            if self.is_folder(path):
                yield from self.walk(path, skipped, listing)
            else:
                yield path

    def listing(self, folder: str) -> list[str]:
        """The names in ``folder``, sorted as SDR's walk sorts them (by code point)."""
        try:
            return sorted(os.listdir(folder))
        except OSError as exc:
            raise UnsafeEntry(
                f"{os.path.relpath(folder, self.root)}: cannot read the folder ({exc.strerror})"
            ) from None

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
