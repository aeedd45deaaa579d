"""apexgen's per-user folders, where the platform keeps such things (platformdirs)."""

from __future__ import annotations

from pathlib import Path


def user_cache_dir() -> Path:
    """apexgen's per-user cache: ``~/.cache/apexgen`` on Linux (``$XDG_CACHE_HOME`` honoured),
    ``~/Library/Caches/apexgen`` on macOS, ``%LOCALAPPDATA%\\apexgen\\Cache`` on Windows."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("apexgen", appauthor=False))
