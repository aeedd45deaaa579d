"""Stage 4: write a render plan into a project without ever losing a hand edit.

``generate`` records the SHA-256 of every file it writes in ``.apexgen/manifest.json`` (see manifest.py).
A file whose content matches no recorded digest was edited by hand: it is never overwritten or removed
unless the caller forces it, and even then a hand-edited file that is no longer generated is kept.
Each file is written to a temporary file beside it and renamed into place, so a crash leaves either
the old or the new content, never half of it; the journal written first keeps both recognisable.
Nothing is touched before every place the plan writes is known to be writable: inside the project,
with folders (not files) on the way.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from apexgen.errors import EditedFilesError, UsageError
from apexgen.generate.manifest import (
    JOURNAL,
    MANIFEST,
    REMOVED,
    TEMPORARY_SUFFIX,
    digest,
    read_records,
    temporary_of,
    write_all,
    write_json,
)
from apexgen.generate.planned_file import PlannedFile
from apexgen.project.containment import ProjectPaths


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REMOVE = "remove"
    CONFLICT = "conflict"  # the file was edited by hand, or exists without having been generated
    OWNED = "owned"  # written once and since the project's own (PlannedFile.once): left as it is
    KEEP = "keep"  # with --force: edited by hand and no longer generated, so left alone and forgotten
    OVERWRITE = "overwrite"  # with --force: edited by hand (or not generated) and written over


@dataclass(frozen=True)
class Change:
    path: str
    action: Action
    old: str | None
    new: str | None
    reason: str = ""
    once: bool = False  # a PlannedFile.once file: written, never recorded

    def diff(self) -> str:
        """A unified diff of the change (empty when nothing changes)."""
        old = (self.old or "").splitlines(keepends=True)
        new = (self.new or "").splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{self.path}", f"b/{self.path}"))


class WriteError(UsageError):
    """A place the plan writes cannot take the file; the message names it."""


def _read(root: Path, path: str) -> str | None:
    """The file's text as Python reads text (universal newlines, as before); undecodable bytes replaced,
    so such a file never matches a digest apexgen recorded."""
    target = root / path
    try:
        content = target.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # not there, or a file stands where a folder should
        return None
    except IsADirectoryError:
        raise WriteError(f"{path}: is a folder where apexgen writes a file; move it away") from None
    except OSError as exc:
        raise WriteError(f"{path}: cannot be read ({exc.strerror})") from None
    return content.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def plan_changes(root: Path, plan: list[PlannedFile]) -> list[Change]:
    """Compare the plan with the project on disk: what writing it would do to each file."""
    paths = ProjectPaths(root)
    records = read_records(root, paths)
    accepted, manifest = records.accepted(), records.manifest
    changes = []
    planned = {f.path for f in plan}
    for file in sorted(plan, key=lambda f: f.path):
        reason = paths.outside_reason(file.path)
        if reason:
            raise WriteError(f"{file.path}: {reason}")
        current = _read(root, file.path)
        if file.once and current is not None:
            changes.append(
                Change(file.path, Action.OWNED, current, current, "written once; the project's own since", True)
            )
        elif current is None:
            changes.append(Change(file.path, Action.CREATE, None, file.content, once=file.once))
        elif current == file.content:
            changes.append(Change(file.path, Action.UNCHANGED, file.content, file.content))
        elif digest(current) in accepted.get(file.path, ()):
            changes.append(Change(file.path, Action.UPDATE, current, file.content))
        else:
            why = "edited by hand" if file.path in manifest else "exists and was not written by apexgen"
            changes.append(Change(file.path, Action.CONFLICT, current, file.content, why))
    for path in sorted(set(accepted) - planned):
        current = _read(root, path)
        if current is None:
            continue
        if digest(current) in accepted[path]:
            changes.append(Change(path, Action.REMOVE, current, None))
        else:
            changes.append(Change(path, Action.CONFLICT, current, None, "edited by hand; no longer generated"))
    return changes


def _check_places(root: Path, files: list[str]) -> None:
    """Refuse, before anything is written, a plan that cannot be written whole: a file where a folder
    must be, or a folder reached through a symlink that leaves the project."""
    paths = ProjectPaths(root)
    seen: set[PurePosixPath] = set()
    for folder in sorted({PurePosixPath(file).parent for file in files}):
        for place in [*reversed(folder.parents[:-1]), folder]:  # each folder on the way, the outermost first
            if place in seen:
                continue
            seen.add(place)
            if (root / place).exists() and not (root / place).is_dir():
                raise WriteError(f"{place}: is a file where apexgen needs a folder; move it away")
        reason = paths.outside_reason(str(folder))
        if reason:
            raise WriteError(f"{folder}: {reason}")


@contextlib.contextmanager
def _reported_os_errors(root: Path) -> Iterator[None]:
    """An OSError (a full disk, a read-only folder) as one line saying what state the project is left in."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or "the project"
        if (root / JOURNAL).exists():
            after = f"files written so far are recorded in {JOURNAL}: the next 'apexgen generate' finishes the job"
        else:
            after = "no file was changed"
        raise WriteError(f"{where}: cannot be written ({exc.strerror or exc}); {after}") from None


def apply_changes(root: Path, changes: list[Change], force: bool = False) -> list[Change]:
    """Write ``changes`` to disk and record them in the manifest; returns the changes as applied.

    Raises ``EditedFilesError`` and writes nothing when a change is a conflict and ``force`` is false.
    With ``force`` a conflicting file is overwritten; one that is no longer generated is kept and
    dropped from the manifest (``Action.KEEP``): a hand edit is never deleted.
    """
    conflicts = [(c.path, c.reason) for c in changes if c.action is Action.CONFLICT]
    if conflicts and not force:
        raise EditedFilesError(conflicts)
    changes = [
        Change(c.path, Action.KEEP if c.new is None else Action.OVERWRITE, c.old, c.new, c.reason)
        if c.action is Action.CONFLICT
        else c
        for c in changes
    ]
    writes = {c.path: c.new for c in changes if c.new is not None and c.action not in (Action.UNCHANGED, Action.OWNED)}
    removals = [c.path for c in changes if c.action is Action.REMOVE]
    recorded = {c.path: digest(c.new) for c in changes if c.new is not None and not c.once}
    records = read_records(root)
    if not writes and not removals and records.manifest == recorded and not records.journal:
        return changes
    _check_places(root, [*writes, str(MANIFEST)])
    intent = {path: list(shas) for path, shas in records.journal.items()}  # the unfinished run's, and this one's
    for path, content in writes.items():
        intent.setdefault(path, []).append(digest(content))
    for path in removals:
        intent.setdefault(path, []).append(REMOVED)
    with _reported_os_errors(root):
        (root / MANIFEST).parent.mkdir(exist_ok=True)
        write_json(root, JOURNAL, {path: list(dict.fromkeys(shas)) for path, shas in intent.items()})
        for folder in sorted({(root / path).parent for path in writes}):
            folder.mkdir(parents=True, exist_ok=True)
        write_all({root / path: content for path, content in writes.items()})
        for path in removals:
            target = root / path
            target.unlink(missing_ok=True)
            _remove_empty_parents(target.parent, root)
        # A killed write leaves its temporaries; one of a file no longer planned would stay for good.
        for path in records.journal:
            temporary_of(root / path).unlink(missing_ok=True)
        write_json(root, MANIFEST, recorded)
        (root / JOURNAL).unlink()
    return changes


def _remove_empty_parents(folder: Path, root: Path) -> None:
    root = root.resolve()
    folder = folder.resolve()
    while folder != root and root in folder.parents and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def generated_file_states(root: Path) -> list[tuple[str, str]]:
    """(path, state) for every recorded file: 'ok', 'missing' or 'edited'. Used by ``apexgen check``, under
    the project's shared lock (``records_lock``), so a generate running meanwhile is never seen half done.

    A file an unfinished write changed or removed counts as apexgen's, as the next generate will."""
    records = read_records(root)
    accepted = records.accepted()
    states = []
    for path in sorted(records.manifest):
        current = _read(root, path)
        if current is None:
            states.append((path, "ok" if REMOVED in accepted[path] else "missing"))
        elif digest(current) not in accepted[path]:
            states.append((path, "edited"))
        else:
            states.append((path, "ok"))
    return states


def stray_temporaries(root: Path, skipped: set[str]) -> list[str]:
    """Project-relative paths of the temporary files a killed write left (``.NAME.apexgen-tmp``), outside
    the folders named ``skipped``; symlinks are not followed."""
    found = []
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name not in skipped]
        found += [
            Path(os.path.relpath(os.path.join(folder, name), root)).as_posix()
            for name in files
            if name.startswith(".") and name.endswith(TEMPORARY_SUFFIX)
        ]
    return sorted(found)
