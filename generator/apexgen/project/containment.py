"""Paths that project files name (the manifest, the spec, sfdx-project.json) must stay inside the project.

Those files are committed, so a pull request can change them: a path in one of them is resolved, with
symlinks followed, and refused unless the place it leads to lies inside the project folder.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath


def outside_reason(root: Path, relative: str) -> str | None:
    """Why ``relative`` does not name a place inside the project at ``root``, or None when it does.

    Symlinks on the way are followed: one that leads out of the project is refused like ``..`` is.
    """
    if not relative:
        return "must not be empty"
    pure = PurePosixPath(relative)
    if pure.is_absolute() or PureWindowsPath(relative).is_absolute() or PureWindowsPath(relative).drive:
        return f"'{relative}' must be a path relative to the project folder, not an absolute one"
    if ".." in pure.parts:
        return f"'{relative}' must not leave the project folder with '..'"
    real_root = root.resolve()
    try:
        real = (real_root / pure).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte
        return f"'{relative}' cannot be resolved ({exc})"
    if real != real_root and real_root not in real.parents:
        return f"'{relative}' leads outside the project folder (to {real}) through a symlink"
    return None


def is_inside(root: Path, path: Path) -> bool:
    """``path`` (absolute, symlinks followed) lies in the project at ``root``."""
    real_root = root.resolve()
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return real == real_root or real_root in real.parents
