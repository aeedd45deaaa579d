"""The unit of a render plan, which every generating module makes and ``write`` applies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlannedFile:
    """One file of a render plan: its path relative to the project root and its full content."""

    path: str
    content: str
