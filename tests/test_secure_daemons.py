"""Issue 23, item 11: check daemons with bounds. At most MAX_DAEMONS run (the one idle longest stops first),
``tools stop`` stops the project's (``--all`` every one), ``tools status`` does not keep them alive, no socket
in a folder another user owns or can enter is talked to, and what a daemon says is not printed raw.

Before: one JVM per project folder with no limit (72 held 21 GB), status reset every idle timer, stop
stopped all, and status asked sockets in a 0777 folder and printed their escape sequences.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from apexgen.check import daemon, runner
from apexgen.check.apex_ls import mirrored_project
from apexgen.cli import main
from tests.check_cases.projects import copy_case


class StandIn:
    """A stand-in daemon: answers status with its workspace and idle time, and records a stop."""

    def __init__(self, folder: Path, name: str, workspace: str, idle: float):
        self.workspace, self.idle, self.asked, self.stopped = workspace, idle, 0, False
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(folder / f"{name}.sock"))
        self.server.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                request = json.loads(connection.makefile("rb").readline())
                self.asked += 1
                if request["op"] == "stop":
                    self.stopped = True
                    reply = {"stopping": True}
                else:
                    reply = {"workspace": self.workspace, "pid": 1, "idleSeconds": self.idle}
                connection.sendall(json.dumps(reply).encode() + b"\n")
        self.server.close()


@pytest.fixture
def sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="apexgen-test-"))  # mode 0700, this user's
    monkeypatch.setattr(daemon, "sockets_dir", lambda: folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_daemon_idle_longest_stops_to_make_room(sockets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(daemon, "MAX_DAEMONS", 3)
    daemons = [StandIn(sockets, name, f"/p/{name}", idle) for name, idle in (("a", 10), ("b", 500), ("c", 30))]
    daemon.make_room()
    assert [d.stopped for d in daemons] == [False, True, False]
    assert len(daemon.running_daemons()) == 2


def test_tools_stop_stops_the_project_s_daemon_and_all_stops_every_one(sockets: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    assert CliRunner().invoke(main, ["init", str(project)]).exit_code == 0
    mine = StandIn(sockets, "mine", str(project.resolve()), 5)
    other = StandIn(sockets, "other", "/elsewhere", 5)
    result = CliRunner().invoke(main, ["tools", "stop", "--project-dir", str(project)])
    assert result.exit_code == 0 and "Stopped 1 check daemon(s)." in result.stderr
    assert (mine.stopped, other.stopped) == (True, False)
    result = CliRunner().invoke(main, ["tools", "stop", "--all"])
    assert "Stopped 1 check daemon(s)." in result.stderr and other.stopped


def test_no_socket_in_a_folder_others_can_enter_is_talked_to(sockets: Path) -> None:
    stand_in = StandIn(sockets, "planted", "/p\x1b[2J\x1b]0;owned\x07", 5)
    sockets.chmod(0o777)
    assert daemon.running_daemons() == [] and daemon.stop_daemons() == 0
    assert stand_in.asked == 0
    sockets.chmod(0o700)
    assert len(daemon.running_daemons()) == 1


def test_tools_status_prints_what_a_daemon_says_without_its_escape_sequences(sockets: Path, tmp_path: Path) -> None:
    StandIn(sockets, "odd", "/p\x1b[2J\x1b]0;owned\x07", 5)
    result = CliRunner().invoke(main, ["tools", "status", "--project-dir", str(tmp_path)])
    assert "for /p\\x1b[2J\\x1b]0;owned\\x07, idle 5 s" in result.stdout
    assert "\x1b" not in result.output


def wait_for_exit(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
            os.kill(pid, 0)
        except (ChildProcessError, ProcessLookupError):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def real_daemons(tmp_path: Path, sockets: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(daemon.NO_DAEMON_ENV, raising=False)
    monkeypatch.delenv("CI", raising=False)
    yield
    daemon.stop_daemons()


@pytest.mark.tools
def test_status_requests_do_not_keep_a_daemon_alive(tmp_path: Path, real_daemons: None, monkeypatch) -> None:
    from apexgen.check.toolchain import require_toolchain

    project = copy_case("defects", tmp_path / "project")
    monkeypatch.setattr(daemon, "IDLE_SECONDS", 3)
    daemon.Daemon.for_project(require_toolchain(project), project).request({"op": "status"})
    deadline = time.monotonic() + 20
    while daemon.running_daemons():  # asked twice a second, it must still stop after 3 s idle
        assert time.monotonic() < deadline, "status requests kept the daemon alive"
        time.sleep(0.5)


@pytest.mark.tools
def test_a_check_of_another_project_stops_the_daemon_idle_longest(
    tmp_path: Path, real_daemons: None, monkeypatch
) -> None:
    monkeypatch.setattr(daemon, "MAX_DAEMONS", 1)
    first, second = (copy_case("defects", tmp_path / name) for name in ("first", "second"))
    runner.run_checks(first, deep=True)
    [running] = daemon.running_daemons()
    assert mirrored_project(Path(running["workspace"])) == first.resolve()
    runner.run_checks(second, deep=True)
    assert wait_for_exit(running["pid"], 15)
    assert [mirrored_project(Path(d["workspace"])) for d in daemon.running_daemons()] == [second.resolve()]
