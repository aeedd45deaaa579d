"""The unit of a render plan, which every generating module makes and ``write`` applies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlannedFile:
    """One file of a render plan: its path relative to the project root and its full content."""

    path: str
    content: str
    # Written once, then the project's own: never overwritten, never removed, not recorded in the manifest
    # (the generated test data factory, which users adapt to their org's validation rules).
    once: bool = False
