"""Stage 4: write a render plan into a project without ever losing a hand edit.

``generate`` records the SHA-256 of every file it writes in ``.apexgen/manifest.json``. A file whose
content no longer matches its recorded hash was edited by hand: it is never overwritten or removed
unless the caller forces it. Each file is written to a temporary file beside it and renamed into
place, so a crash leaves either the old or the new content, never half of it; the manifest is written
last, the same way.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from apexgen.errors import EditedFilesError, UsageError
from apexgen.generate.planned_file import PlannedFile

MANIFEST = Path(".apexgen") / "manifest.json"
MANIFEST_VERSION = 1
WRITE_THREADS = 8


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REMOVE = "remove"
    CONFLICT = "conflict"  # the file was edited by hand, or exists without having been generated


@dataclass(frozen=True)
class Change:
    path: str
    action: Action
    old: str | None
    new: str | None
    reason: str = ""

    def diff(self) -> str:
        """A unified diff of the change (empty when nothing changes)."""
        old = (self.old or "").splitlines(keepends=True)
        new = (self.new or "").splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{self.path}", f"b/{self.path}"))


def digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def read_manifest(root: Path) -> dict[str, str]:
    """Path -> SHA-256 of every file the last ``generate`` wrote; empty before the first one."""
    path = root / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
        files = data["files"]
        if data.get("version") != MANIFEST_VERSION or not isinstance(files, dict):
            raise ValueError("unknown manifest version")
        return {str(k): str(v) for k, v in files.items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{MANIFEST}: cannot be read ({exc}); restore it from version control") from None


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        return None


def plan_changes(root: Path, plan: list[PlannedFile]) -> list[Change]:
    """Compare the plan with the project on disk: what writing it would do to each file."""
    recorded = read_manifest(root)
    changes = []
    planned = {f.path for f in plan}
    for file in sorted(plan, key=lambda f: f.path):
        current = _read(root / file.path)
        if current is None:
            changes.append(Change(file.path, Action.CREATE, None, file.content))
        elif current == file.content:
            changes.append(Change(file.path, Action.UNCHANGED, current, file.content))
        elif recorded.get(file.path) == digest(current):
            changes.append(Change(file.path, Action.UPDATE, current, file.content))
        else:
            reason = "edited by hand" if file.path in recorded else "exists and was not written by apexgen"
            changes.append(Change(file.path, Action.CONFLICT, current, file.content, reason))
    for path in sorted(set(recorded) - planned):
        current = _read(root / path)
        if current is None:
            continue
        if digest(current) == recorded[path]:
            changes.append(Change(path, Action.REMOVE, current, None))
        else:
            changes.append(Change(path, Action.CONFLICT, current, None, "edited by hand; no longer generated"))
    return changes


def atomic_write(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` (whose folder exists) whole or not at all: into a temporary file
    beside it, then renamed.

    The temporary name is fixed, so a run that crashed leaves at most one stale temporary per file,
    which the next run overwrites. Files get the usual permissions (0666 less the umask).
    """
    tmp = path.with_name(f".{path.name}.apexgen-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def apply_changes(root: Path, changes: list[Change], force: bool = False) -> None:
    """Write ``changes`` to disk and record them in the manifest.

    Raises ``EditedFilesError`` and writes nothing when a change is a conflict and ``force`` is false.
    With ``force`` a conflicting file is overwritten (or, when no longer generated, removed).
    Files are written by a few threads at once: each is still written whole and renamed into place,
    and the manifest is written only after every file is.
    """
    from concurrent.futures import ThreadPoolExecutor

    conflicts = [(c.path, c.reason) for c in changes if c.action is Action.CONFLICT]
    if conflicts and not force:
        raise EditedFilesError(conflicts)
    writes = [c for c in changes if c.new is not None and c.action is not Action.UNCHANGED]
    for folder in sorted({(root / c.path).parent for c in writes} | {(root / MANIFEST).parent}):
        folder.mkdir(parents=True, exist_ok=True)
    # Creating a file waits on the file system, not on Python: threads overlap the waits.
    with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
        for _ in pool.map(lambda change: atomic_write(root / change.path, change.new), writes):
            pass
    for change in changes:
        if change.new is None and change.action in (Action.REMOVE, Action.CONFLICT):
            target = root / change.path
            target.unlink(missing_ok=True)
            _remove_empty_parents(target.parent, root)
    recorded = {c.path: digest(c.new) for c in changes if c.new is not None}
    manifest = json.dumps({"version": MANIFEST_VERSION, "files": dict(sorted(recorded.items()))}, indent=2) + "\n"
    if _read(root / MANIFEST) != manifest:
        atomic_write(root / MANIFEST, manifest)


def _remove_empty_parents(folder: Path, root: Path) -> None:
    root = root.resolve()
    folder = folder.resolve()
    while folder != root and root in folder.parents and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def generated_file_states(root: Path) -> list[tuple[str, str]]:
    """(path, state) for every recorded file: 'ok', 'missing' or 'edited'. Used by ``apexgen check``."""
    states = []
    for path, sha in sorted(read_manifest(root).items()):
        current = _read(root / path)
        if current is None:
            states.append((path, "missing"))
        elif digest(current) != sha:
            states.append((path, "edited"))
        else:
            states.append((path, "ok"))
    return states
