"""The deep check's daemon keeps jorje, apex-ls and PMD loaded between checks, and never changes a finding.

The tests marked ``tools`` run the real tools (the full tier) on a copy of check_cases/defects, whose planted
defects include one apex-ls finds across files (SummaryCaller calls a method SummaryService does not have)
and one PMD finds (a SOQL injection). The others talk to a stand-in daemon: the client's rules.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from apexgen.check import apex_ls, daemon, runner
from apexgen.check.toolchain import Toolchain, require_toolchain
from tests.check_cases.projects import copy_case

CLASSES = "force-app/main/default/classes"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The defects case with the daemon turned on, its socket in a short private folder; stopped after."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(daemon.NO_DAEMON_ENV, raising=False)
    monkeypatch.delenv("CI", raising=False)
    sockets = Path(tempfile.mkdtemp(prefix="apexgen-test-"))  # socket paths must stay short
    monkeypatch.setattr(daemon, "sockets_dir", lambda: sockets)
    yield copy_case("defects", tmp_path / "project")
    daemon.stop_daemons()
    shutil.rmtree(sockets, ignore_errors=True)


def without_daemon(root: Path, monkeypatch: pytest.MonkeyPatch) -> list:
    """The deep check's findings with every tool run alone, caches aside."""
    with monkeypatch.context() as alone:
        alone.setenv(daemon.NO_DAEMON_ENV, "1")
        return runner.run_checks(root, deep=True, use_cache=False)


def cross_file_and_pmd(findings: list) -> set:
    return {(f.file, f.line, f.tool, f.rule) for f in findings if f.tool in ("apex-ls", "pmd")}


@pytest.mark.tools
def test_a_check_through_the_daemon_finds_what_the_tools_find_alone(project, monkeypatch):
    through_daemon = runner.run_checks(project, deep=True)
    [running] = daemon.running_daemons()
    # Its apex-ls reads the project's probed mirror (apex_ls.apex_ls_workspace).
    assert apex_ls.mirrored_project(Path(running["workspace"])) == project
    assert through_daemon == without_daemon(project, monkeypatch)
    assert (f"{CLASSES}/SummaryCaller.cls", 3, "apex-ls", "Missing") in cross_file_and_pmd(through_daemon)
    assert (f"{CLASSES}/AccountSearch.cls", 4, "pmd", "ApexSOQLInjection") in cross_file_and_pmd(through_daemon)


@pytest.mark.tools
def test_the_daemon_follows_changes_across_files_as_a_fresh_apex_ls_does(project, monkeypatch):
    runner.run_checks(project, deep=True)
    service, caller = project / CLASSES / "SummaryService.cls", f"{CLASSES}/SummaryCaller.cls"
    original = service.read_text()
    # Given the callee gains the method the caller calls (and the SOQL injection is fixed)
    service.write_text(original.replace("summarize(", "summarise("))
    search = project / CLASSES / "AccountSearch.cls"
    search.write_text(search.read_text().replace("+ name +", "+ String.escapeSingleQuotes(name) +"))
    # When the project is checked again through the daemon
    fixed = runner.run_checks(project, deep=True)
    # Then the caller's finding is gone, as for apex-ls run alone
    assert fixed == without_daemon(project, monkeypatch)
    assert (caller, 3, "apex-ls", "Missing") not in cross_file_and_pmd(fixed)
    assert not any(f.rule == "ApexSOQLInjection" for f in fixed)
    # And when the callee loses it again, the caller's finding is back
    service.write_text(original)
    broken = runner.run_checks(project, deep=True)
    assert (caller, 3, "apex-ls", "Missing") in cross_file_and_pmd(broken)
    assert broken == without_daemon(project, monkeypatch)
    assert len(daemon.running_daemons()) == 1  # the same daemon served every check


@pytest.mark.tools
def test_a_changed_forceignore_reloads_the_project(project, monkeypatch):
    runner.run_checks(project, deep=True)
    (project / ".forceignore").write_text("**/SummaryCaller.cls\n")
    after = runner.run_checks(project, deep=True)
    assert not any(f.file.endswith("SummaryCaller.cls") for f in after)
    assert after == without_daemon(project, monkeypatch)


@pytest.mark.tools
def test_a_daemon_that_fails_leaves_the_tools_to_run_alone(project, monkeypatch):
    def fails(self, call):
        raise daemon.DaemonError("the check daemon failed: planted")

    monkeypatch.setattr(daemon.Daemon, "_reach", fails)  # every request and stream
    assert runner.run_checks(project, deep=True) == without_daemon(project, monkeypatch)
    assert daemon.running_daemons() == []


def wait_for_exit(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` ends within ``seconds`` (a daemon this test process started is its child)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return True
        except ChildProcessError:  # not a child of this process, or reaped already
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
        time.sleep(0.1)
    return False


@pytest.mark.tools
def test_the_daemon_stops_when_idle_and_when_its_socket_goes(project, monkeypatch):
    tools = require_toolchain(project)
    monkeypatch.setattr(daemon, "IDLE_SECONDS", 1)
    # The status request starts the daemon and is its last request: its idle time runs from there.
    idle = daemon.Daemon.for_project(tools, project).request({"op": "status"})
    assert wait_for_exit(idle["pid"], 15), "the daemon outlived its idle time"
    assert list(daemon.sockets_dir().glob("*.sock")) == []  # it removed its socket

    monkeypatch.setattr(daemon, "IDLE_SECONDS", 600)
    orphan = daemon.Daemon.for_project(tools, project).request({"op": "status"})
    next(daemon.sockets_dir().glob("*.sock")).unlink()
    assert wait_for_exit(orphan["pid"], 15), "the daemon outlived its socket"


@pytest.mark.tools
def test_tools_stop_stops_the_daemons_and_status_lists_them(project, cli):
    runner.run_checks(project, deep=True)
    status = cli("tools", "status", "--project-dir", str(project))
    assert f"for {project}, idle" in status.output
    [running] = daemon.running_daemons()
    stopped = cli("tools", "stop", "--project-dir", str(project))
    assert stopped.exit_code == 0 and "Stopped 1 check daemon(s)." in stopped.output
    assert wait_for_exit(running["pid"], 15)
    assert daemon.running_daemons() == []


@pytest.mark.tools
def test_with_the_daemon_up_no_tool_starts_a_jvm_of_its_own(project, monkeypatch):
    from apexgen.check import apex_ls, deep, pmd

    runner.run_checks(project, deep=True)  # starts the daemon
    search = project / CLASSES / "AccountSearch.cls"
    search.write_text(search.read_text() + "// changed\n")
    with monkeypatch.context() as only_daemon:
        for module, name in ((deep, "_format_from_own_jvm"), (apex_ls, "_one_shot"), (pmd, "run_java")):
            only_daemon.setattr(module, name, lambda *args, **kwargs: pytest.fail("a JVM of its own"))
        through_daemon = runner.run_checks(project, deep=True)
    assert through_daemon == without_daemon(project, monkeypatch)


@pytest.mark.tools
def test_checks_started_together_start_one_daemon(project, monkeypatch):
    starts, start = [], daemon.Daemon._start
    monkeypatch.setattr(daemon.Daemon, "_start", lambda self: starts.append(self) or start(self))
    results: list[list] = []
    checks = [threading.Thread(target=lambda: results.append(runner.run_checks(project, deep=True))) for _ in range(2)]
    for check in checks:
        check.start()
    for check in checks:
        check.join()
    assert len(starts) == 1 and len(daemon.running_daemons()) == 1
    assert results[0] == results[1] == without_daemon(project, monkeypatch)


# --- the client's rules, against a stand-in daemon (quick tier) ---------------------------------------------


@pytest.mark.parametrize(
    ("environment", "use_cache", "wanted"),
    [({}, True, True), ({}, False, False), ({"CI": "true"}, True, False), ({daemon.NO_DAEMON_ENV: "1"}, True, False)],
    ids=["by-default", "no-cache", "ci", "turned-off"],
)
def test_when_a_check_wants_the_daemon(monkeypatch, environment, use_cache, wanted):
    for name in ("CI", daemon.NO_DAEMON_ENV):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert daemon.daemon_wanted(use_cache) is wanted


def test_a_sockets_folder_others_can_enter_is_not_used(tmp_path, monkeypatch):
    folder = tmp_path / "sockets"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    monkeypatch.setattr(daemon, "sockets_dir", lambda: folder)
    with pytest.raises(daemon.DaemonError, match="not a folder of this user's alone"):
        daemon.private_sockets_dir()
    monkeypatch.delenv(daemon.NO_DAEMON_ENV, raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(daemon, "check_daemon_classes", lambda toolchain: tmp_path)
    assert daemon.daemon_for(Toolchain(tmp_path), tmp_path, use_cache=True) is None


@pytest.fixture
def stand_in(tmp_path: Path):
    """A stand-in daemon on a Unix socket that answers each connection with the bytes queued for it."""
    answers: list[bytes] = []
    path = Path(tempfile.mkdtemp(prefix="apexgen-test-")) / "d.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def serve() -> None:
        while answers:
            connection, _ = server.accept()
            with connection:
                connection.makefile("rb").readline()
                connection.sendall(answers.pop(0))

    def start(*queued: bytes) -> Path:
        answers.extend(queued)
        threading.Thread(target=serve, daemon=True).start()
        return path

    yield start
    server.close()
    shutil.rmtree(path.parent, ignore_errors=True)


def test_the_client_reads_answers_errors_and_streams(stand_in):
    path = stand_in(
        b'{"workspace": "/p", "pid": 7, "idleSeconds": 1}\n',
        b'{"error": "planted"}\n',
        b'{"streaming": true}\nAST 1\nAST 2\n',
    )
    assert daemon.ask(path, {"op": "status"})["pid"] == 7
    with pytest.raises(daemon.DaemonError, match="the check daemon failed: planted"):
        daemon.ask(path, {"op": "apex-ls"})
    with daemon.open_stream(path, {"op": "jorje", "paths": []}) as stream, stream.makefile("rb") as rest:
        assert rest.read() == b"AST 1\nAST 2\n"  # what follows the first line is the stream's, untouched


def test_no_daemon_listening_is_told_apart_from_a_failing_one(tmp_path, stand_in):
    with pytest.raises(FileNotFoundError):
        daemon.ask(tmp_path / "none.sock", {"op": "status"})
    path = stand_in(b"not json")
    with pytest.raises(daemon.DaemonError, match="stopped before it answered"):
        daemon.ask(path, {"op": "status"})
