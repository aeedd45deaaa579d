"""What apexgen wrote: ``.apexgen/manifest.json``, and the journal of a write that has not finished.

The manifest maps each generated file (project-relative POSIX path) to the SHA-256 of the content
apexgen wrote. A write first records its intent in ``.apexgen/journal.json`` (every file it will write,
with the new digest, and every file it will remove), then touches the files, then writes the manifest
and deletes the journal. Whatever interrupts it (an error, SIGKILL, a power cut), a file holds either
a content the manifest or the journal names, so apexgen still tells its own files from hand edits;
the next ``generate`` finishes the job.

Both files are committed or shared with the project, so every path in them is checked: relative,
inside the project (symlinks followed only inside it), never in a hidden folder such as ``.git``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from apexgen.errors import SpecError, UsageError
from apexgen.generate.marker import GIT_ATTRIBUTES
from apexgen.project.containment import ProjectPaths
from apexgen.untrusted import json_loads

MANIFEST = PurePosixPath(".apexgen/manifest.json")
JOURNAL = PurePosixPath(".apexgen/journal.json")
MANIFEST_VERSION = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
REMOVED = None  # the journal's digest of a file the write removes
# The temporary file a write goes through before it is renamed into place (``atomic_write``, ``write_json``).
TEMPORARY_SUFFIX = ".apexgen-tmp"
# How long a generate waits for another generate of the same project, or a check for a generate, to finish.
LOCK_WAIT_SECONDS = 60.0
_LOCK_POLL_SECONDS = 0.05
# Where each file is flushed on its own, the flushes wait on the disk, not on Python: threads overlap them.
WRITE_THREADS = 8


def temporary_of(path: Path) -> Path:
    """The temporary file beside ``path`` that a write of ``path`` goes through."""
    return path.with_name(f".{path.name}{TEMPORARY_SUFFIX}")


def atomic_write(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` (whose folder exists) whole or not at all: into a temporary file
    beside it, then renamed.

    The content is flushed to disk before the rename, so once the manifest records a file (after every
    write), a power cut cannot leave it empty. The temporary name is fixed, so a run that crashed leaves at
    most one stale temporary per file, which the next run overwrites or removes. Files get the usual
    permissions (0666 less the umask).
    """
    tmp = _write_temporary(path, content, flush=True)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_all(files: dict[Path, str]) -> None:
    """Write every file as ``atomic_write`` does (whole or not at all, its content on disk before it is
    renamed into place), then flush the renames: once this returns, a power cut leaves each file new.

    Flushing costs a journal commit per call on the usual file systems, and the commits, not the bytes,
    are what writing thousands of small files costs (``bench/bench_generate.py --write-cost``). Where one
    call flushes a whole file system and reports what failed (``whole_file_system_sync``), every temporary
    is written, each file system holding them flushed once, every temporary renamed, and each flushed
    again: two flushes in all. Elsewhere each file is flushed on its own, then each folder, in threads
    that overlap the waits.
    """
    from concurrent.futures import ThreadPoolExecutor

    folders = {path.parent for path in files}
    with _file_system_syncs(folders) as sync_all:
        if sync_all is None:
            with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
                for _ in pool.map(lambda item: atomic_write(*item), files.items()):
                    pass
                for _ in pool.map(_sync_folder, sorted(folders)):
                    pass
            return
        temporaries = []
        try:
            for path, content in files.items():
                temporaries.append((_write_temporary(path, content, flush=False), path))
            sync_all()  # every temporary's content on disk before any rename
            for tmp, path in temporaries:
                os.replace(tmp, path)
        except BaseException:
            for tmp, _ in temporaries:
                tmp.unlink(missing_ok=True)
            raise
        sync_all()  # the renames, before the manifest names the files


def _write_temporary(path: Path, content: str, flush: bool) -> Path:
    """``path``'s temporary holding ``content`` (removed again when writing fails); flushed to disk if asked."""
    tmp = temporary_of(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        try:
            data = memoryview(content.encode("utf-8"))  # as written: no newline translation
            while data:
                data = data[os.write(fd, data) :]
            if flush:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries (the renames) to disk, so the manifest never names a file a power cut undoes."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; its renames are durable once done
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@cache
def whole_file_system_sync() -> Callable[[int], None] | None:
    """Linux's ``syncfs(2)``: flush everything written to the file system of an open descriptor, raising
    the first write error since it was opened. None elsewhere, and before Linux 5.8, whose syncfs returned
    success even when writing back failed (per-file fsync reports that)."""
    import platform

    release = re.match(r"(\d+)\.(\d+)", platform.release())
    if sys.platform != "linux" or release is None or (int(release[1]), int(release[2])) < (5, 8):
        return None
    import ctypes

    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):  # a C library without it
        return None

    def sync(fd: int) -> None:
        if syncfs(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))

    return sync


@contextlib.contextmanager
def _file_system_syncs(folders: set[Path]) -> Iterator[Callable[[], None] | None]:
    """A call that flushes each file system holding ``folders`` (a mount inside the project is another
    one), or None where one call cannot (``whole_file_system_sync``). Each file system is opened before
    anything is written to it: syncfs reports only the write errors that happen while it is open."""
    sync = whole_file_system_sync()
    if sync is None:
        yield None
        return
    opened: dict[int, tuple[int, Path]] = {}
    try:
        for folder in sorted(folders):
            device = os.stat(folder).st_dev
            if device not in opened:
                opened[device] = (os.open(folder, os.O_RDONLY), folder)

        def sync_all() -> None:
            for fd, folder in opened.values():
                try:
                    sync(fd)
                except OSError as exc:
                    raise OSError(exc.errno, exc.strerror, str(folder)) from None

        yield sync_all
    finally:
        for fd, _ in opened.values():
            os.close(fd)


class ProjectBusy(UsageError):
    """Another apexgen process holds the project's lock longer than the wait allows."""


@contextlib.contextmanager
def records_lock(
    root: Path, *, exclusive: bool, wait: float | None = None, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the project's lock: ``exclusive`` while a generate reads and writes the files and their records
    (one generate at a time), shared while a reader reads the records and the files they name, so it never
    sees a write half done. The lock is ``flock`` on the project folder itself, so no file is added to the
    project and a killed process releases it. Waits up to ``wait`` seconds (``LOCK_WAIT_SECONDS``), calling
    ``on_wait`` once if it has to, then raises ``ProjectBusy``.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no flock; runs of one project are not kept apart there
        yield
        return
    wait = LOCK_WAIT_SECONDS if wait is None else wait
    fd = os.open(root, os.O_RDONLY)
    try:
        deadline = time.monotonic() + wait
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = "apexgen command (a generate or a check)" if exclusive else "'apexgen generate'"
                    raise ProjectBusy(
                        f"{root}: another {holder} holds this project's lock; waited {wait:g} s for it: "
                        "run again when it has finished"
                    ) from None
                if on_wait is not None:
                    on_wait()
                    on_wait = None
                time.sleep(_LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(fd)  # releases the lock


def digest(content: bytes | str) -> str:
    return hashlib.sha256(content.encode("utf-8") if isinstance(content, str) else content).hexdigest()


def _load(root: Path, name: PurePosixPath, paths: ProjectPaths) -> dict[str, Any] | None:
    path = root / name
    outside = paths.outside_reason(str(name))
    if outside:  # .apexgen, or the file itself, is a symlink that leaves the project
        raise SpecError(str(name), "", outside)
    if not path.exists() and not path.is_symlink():
        return None
    try:
        data = json_loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SpecError(str(name), "", f"cannot be read ({reason}); restore it from version control") from None
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION or not isinstance(data.get("files"), dict):
        raise SpecError(
            str(name),
            "",
            f"is not an apexgen manifest of version {MANIFEST_VERSION} "
            '({"version": 1, "files": {...}}); restore it from version control',
        )
    files: dict[str, Any] = data["files"]
    return files


def _check_path(root: Path, name: PurePosixPath, path: str, paths: ProjectPaths) -> None:
    key = f"files[{json.dumps(path)}]"
    reason = paths.outside_reason(path)
    *folders, file = path.split("/")
    hidden = any(part.startswith(".") for part in folders) or (file.startswith(".") and file != GIT_ATTRIBUTES)
    if reason is None and hidden:
        reason = f"'{path}' is in a hidden folder or file; apexgen never writes one"
    if reason is None and os.path.isdir(os.path.join(root, path)):
        reason = f"'{path}' is a folder; the manifest lists files"
    if reason:
        raise SpecError(str(name), key, reason)


def read_manifest(root: Path, paths: ProjectPaths | None = None) -> dict[str, str]:
    """Path -> SHA-256 of every file the last finished ``generate`` wrote; empty before the first one."""
    paths = paths or ProjectPaths(root)
    files = _load(root, MANIFEST, paths) or {}
    for path, sha in files.items():
        _check_path(root, MANIFEST, path, paths)
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise SpecError(str(MANIFEST), f"files[{json.dumps(path)}]", "must be a SHA-256 (64 hex digits)")
    return files


def read_journal(root: Path, paths: ProjectPaths | None = None) -> dict[str, list[str | None]]:
    """Path -> digests an unfinished write may have left there (None: it may have removed the file)."""
    paths = paths or ProjectPaths(root)
    files = _load(root, JOURNAL, paths) or {}
    for path, shas in files.items():
        _check_path(root, JOURNAL, path, paths)
        if not isinstance(shas, list) or not all(
            s is REMOVED or (isinstance(s, str) and _SHA256.fullmatch(s)) for s in shas
        ):
            raise SpecError(str(JOURNAL), f"files[{json.dumps(path)}]", "must list SHA-256 digests or null")
    return files


@dataclass(frozen=True)
class Records:
    """The manifest and the journal of a project, read and checked once."""

    manifest: dict[str, str]
    journal: dict[str, list[str | None]]

    def accepted(self) -> dict[str, set[str | None]]:
        """Path -> every content apexgen may have left there: the manifest's, and an unfinished write's."""
        accepted: dict[str, set[str | None]] = {path: {sha} for path, sha in self.manifest.items()}
        for path, shas in self.journal.items():
            accepted.setdefault(path, set()).update(shas)
        return accepted


def read_records(root: Path, paths: ProjectPaths | None = None) -> Records:
    paths = paths or ProjectPaths(root)
    return Records(read_manifest(root, paths), read_journal(root, paths))


def write_json(root: Path, name: PurePosixPath, files: dict[str, Any]) -> None:
    """Write the manifest or the journal whole, flushed to disk before it replaces the old one."""
    document = json.dumps({"version": MANIFEST_VERSION, "files": dict(sorted(files.items()))}, indent=2) + "\n"
    atomic_write(root / name, document)
