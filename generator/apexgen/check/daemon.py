"""The deep check's daemon: one JVM per project that keeps apex-ls' model of it loaded, and jorje and PMD warm.

apex-ls must load a whole project before it can say anything about one file of it (NebulaLogger: 5 s
from its cache, 12 s without). Between checks, ``CheckDaemon.java`` keeps that model in memory and
refreshes only the files that changed and their dependants, as apex-ls does in an editor, and runs
Salesforce's PmdWrapper and apexgen's JorjeBatch in a JVM that has already loaded and compiled them. The
first check starts it; it stops by itself after ``IDLE_SECONDS`` without a request (a status request does
not count), with ``apexgen tools stop`` (the project's) or ``apexgen tools stop --all``, or when a check of
another project needs room: at most ``MAX_DAEMONS`` run for one user, each with at most ``DAEMON_HEAP`` of
heap, and the one idle longest stops first.

It listens on a Unix domain socket in a folder only its user can enter, one per project root and tool
versions; apexgen talks to no socket in a folder another user owns or can enter. Whenever it cannot be reached or answers with an error, the tool runs alone as it does without a
daemon, so the daemon can make a check faster but never change its findings. CI (``CI`` set), ``--no-cache``
and ``APEXGEN_NO_DAEMON=1`` run without one.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from apexgen.check.cache import check_cache_dir
from apexgen.check.jvm import JVM_OPTIONS, LARGE_STACK, java_command
from apexgen.check.toolchain import CHECK_DAEMON, Toolchain, check_daemon_classes, jorje_classpath_of
from apexgen.errors import ToolsMissingError

NO_DAEMON_ENV = "APEXGEN_NO_DAEMON"
IDLE_SECONDS = 30 * 60
START_SECONDS = 20.0  # for the JVM to bind the socket; loading the project comes later, per request
# The one-shot tools' options: with C1 alone a first check of NebulaLogger through the daemon took 9.4 s where
# C2 took 13-17 s, and checks after a change to the class most others use took no longer (1.8-2.3 s).
# A bound on what the daemons of one user hold: they measured 230-390 MB each (resident) on the test
# projects and NebulaLogger; three with at most 1 GB of heap each stay under 4 GB with the JVMs' own memory,
# on machines where an afternoon of checks in scratch folders once left 72 of them holding 21 GB.
MAX_DAEMONS = 3
DAEMON_HEAP = "-Xmx1g"
DAEMON_JVM_OPTIONS = (*JVM_OPTIONS, LARGE_STACK, DAEMON_HEAP)


T = TypeVar("T")


class DaemonError(Exception):
    """The daemon could not be reached or could not answer; the caller runs the tool alone."""


def daemon_wanted(use_cache: bool) -> bool:
    """Whether a deep check should use the daemon: not without caches, in CI or where it is turned off,
    and only where Unix domain sockets exist."""
    off = {"", "0", "false", "no"}
    return (
        use_cache
        and os.name == "posix"
        and os.environ.get("CI", "").strip().lower() in off
        and os.environ.get(NO_DAEMON_ENV, "").strip().lower() in off
    )


def daemon_for(toolchain: Toolchain, root: Path, use_cache: bool) -> Daemon | None:
    """The daemon a deep check of ``root`` should use, or None (see ``daemon_wanted``, or none can be had)."""
    if not daemon_wanted(use_cache):
        return None
    try:
        root.mkdir(parents=True, exist_ok=True)  # the project's mirror, made only when a daemon will read it
        return Daemon.for_project(toolchain, root)
    except (OSError, DaemonError, ToolsMissingError):
        return None  # the tools run alone, as without a daemon (an unwritable cache included)


def sockets_dir() -> Path:
    """The folder of the daemons' sockets: short (socket paths are limited to about 100 bytes) and private."""
    return Path(tempfile.gettempdir()) / f"apexgen-{os.getuid()}"


def private_sockets_dir(create: bool = True) -> Path:
    """``sockets_dir()``, made if missing (with ``create``); raises DaemonError unless only this user can use it."""
    folder = sockets_dir()
    try:
        if create:
            folder.mkdir(mode=0o700, exist_ok=True)
        status = folder.lstat()
    except OSError as exc:
        raise DaemonError(f"{folder}: {exc.strerror}") from None
    if not folder.is_dir() or folder.is_symlink() or status.st_uid != os.getuid() or status.st_mode & 0o077:
        raise DaemonError(f"{folder}: not a folder of this user's alone")
    return folder


@dataclass(frozen=True)
class Daemon:
    """The daemon of one project root and toolchain (running or not)."""

    socket_path: Path
    root: Path
    classpath: list[Path]  # CheckDaemon's: apex-ls and PMD
    jorje_classpath: list[Path]  # JorjeBatch's, loaded apart

    @classmethod
    def for_project(cls, toolchain: Toolchain, root: Path) -> Daemon:
        classpath = [check_daemon_classes(toolchain), toolchain.java_lib / "*"]
        jorje_classpath = jorje_classpath_of(toolchain)
        key = hashlib.sha256("\0".join(map(str, [root, *classpath, *jorje_classpath])).encode()).hexdigest()[:16]
        return cls(private_sockets_dir() / f"{key}.sock", root, classpath, jorje_classpath)

    def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The daemon's answer to ``payload``, starting the daemon first when none listens.

        Raises DaemonError when it cannot be started, reached or answer.
        """
        return self._reach(lambda: ask(self.socket_path, payload))

    def stream(self, payload: dict[str, Any]) -> socket.socket:
        """A connection on which the daemon's answer to ``payload`` streams (see ``open_stream``), starting
        the daemon first when none listens. Raises DaemonError as ``request`` does."""
        return self._reach(lambda: open_stream(self.socket_path, payload))

    def _reach(self, call: Callable[[], T]) -> T:
        try:
            try:
                return call()
            except (FileNotFoundError, ConnectionRefusedError):
                pass  # none listens: start one
            with self._starting():
                try:
                    return call()  # another check started it meanwhile
                except (FileNotFoundError, ConnectionRefusedError):
                    self._start()
            return call()
        except OSError as exc:
            raise DaemonError(f"the check daemon cannot be reached: {exc}") from None

    @contextmanager
    def _starting(self) -> Iterator[None]:
        """Held while a daemon starts, so that checks started together start one."""
        import fcntl

        with open(self.socket_path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _start(self) -> None:
        import fcntl

        # One start at a time for the user, so that two projects starting together keep the bound.
        with open(self.socket_path.parent / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            make_room()
            self._spawn()

    def _spawn(self) -> None:
        self.socket_path.unlink(missing_ok=True)  # left by a daemon that died: no one listens on it
        log_dir = check_cache_dir() / "daemon"
        log_dir.mkdir(parents=True, exist_ok=True)
        apex_ls_cache = check_cache_dir() / "apex-ls"
        apex_ls_cache.mkdir(parents=True, exist_ok=True)
        arguments = [
            CHECK_DAEMON,
            str(self.socket_path),
            str(self.root),
            str(apex_ls_cache),
            str(IDLE_SECONDS),
            os.pathsep.join(map(str, self.jorje_classpath)),
        ]
        command = java_command(self.classpath, arguments, DAEMON_JVM_OPTIONS)
        with open(log_dir / f"{self.socket_path.stem}.log", "ab") as log:
            try:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    cwd=self.root,
                    start_new_session=True,  # outlives this check, and ^C in its terminal
                )
            except OSError as exc:
                raise DaemonError(f"cannot start the check daemon: {exc}") from None
        deadline = time.monotonic() + START_SECONDS
        while not _listening_on(self.socket_path):
            if process.poll() is not None:
                raise DaemonError(f"the check daemon exited at start ({process.returncode}); see {log.name}")
            if time.monotonic() > deadline:
                process.kill()
                raise DaemonError(f"the check daemon did not start within {START_SECONDS:.0f} s")
            time.sleep(0.02)


def _listening_on(socket_path: Path) -> bool:
    """Whether a daemon accepts connections on ``socket_path`` (its file appears at bind, a moment before it listens)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(socket_path))
        except (FileNotFoundError, ConnectionRefusedError):
            return False
    return True


def stop_daemons(which: Callable[[dict[str, Any]], bool] | None = None) -> int:
    """Stop the check daemons whose status ``which`` accepts (every one of this user's without it); how many
    stopped."""
    stopped = 0
    for path, status in _running():
        if which is None or which(status):
            with suppress(OSError, DaemonError):
                ask(path, {"op": "stop"})
                stopped += 1
    return stopped


def running_daemons() -> list[dict[str, Any]]:
    """What each running check daemon of this user says of itself: its project, process id and idle time.
    Asking does not keep them alive."""
    return [status for _, status in _running()]


def make_room() -> None:
    """Stop the daemons idle longest until one more can start within MAX_DAEMONS."""
    running = sorted(_running(), key=lambda daemon: float(daemon[1].get("idleSeconds") or 0), reverse=True)
    for path, _ in running[: max(0, len(running) - MAX_DAEMONS + 1)]:
        with suppress(OSError, DaemonError):
            ask(path, {"op": "stop"})


def _running() -> list[tuple[Path, dict[str, Any]]]:
    """Each socket a daemon listens on in the user's private sockets folder, with its status. A folder that
    is missing, or that another user owns or can enter, holds no daemon of ours: nothing there is asked."""
    try:
        folder = private_sockets_dir(create=False)
    except DaemonError:
        return []
    found = []
    for path in sorted(folder.glob("*.sock")):
        try:
            found.append((path, ask(path, {"op": "status"})))
        except (OSError, DaemonError):
            continue  # none listens there
    return found


def _send(socket_path: Path, payload: dict[str, Any]) -> socket.socket:
    """A connection to the daemon on ``socket_path`` that has sent it ``payload``."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(socket_path))
        connection.sendall(json.dumps(payload).encode() + b"\n")
        connection.shutdown(socket.SHUT_WR)
    except BaseException:
        connection.close()
        raise
    return connection


def _reply(line: bytes) -> dict[str, Any]:
    try:
        reply = json.loads(line)
    except ValueError:
        raise DaemonError("the check daemon stopped before it answered") from None
    if not isinstance(reply, dict):
        raise DaemonError("the check daemon answered something other than a JSON object")
    if "error" in reply:
        raise DaemonError(f"the check daemon failed: {reply['error']}")
    return reply


def ask(socket_path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    """The answer of the daemon listening on ``socket_path`` to ``payload``.

    Raises FileNotFoundError or ConnectionRefusedError when none listens there, DaemonError when it fails.
    """
    try:
        with _send(socket_path, payload) as connection, connection.makefile("rb") as answer:
            text = answer.read()
    except (FileNotFoundError, ConnectionRefusedError):
        raise
    except OSError as exc:
        raise DaemonError(f"the check daemon went away: {exc}") from None
    return _reply(text)


def open_stream(socket_path: Path, payload: dict[str, Any]) -> socket.socket:
    """A connection on which the daemon's answer to ``payload`` follows its first line ``{"streaming": true}``,
    to be read by whoever reads that connection (Node reads jorje's ASTs from it). Raises as ``ask`` does."""
    connection = _send(socket_path, payload)
    try:
        header = b""
        while not header.endswith(b"\n"):  # byte by byte: what follows the line is the stream's
            byte = connection.recv(1)
            if not byte:
                break
            header += byte
        if not _reply(header).get("streaming"):
            raise DaemonError("the check daemon did not stream its answer")
    except BaseException:
        connection.close()
        raise
    return connection
