"""The deep check's daemon keeps apex-ls and PMD loaded between checks, and never changes a finding.

Real tools (the full tier) on a copy of check_cases/defects, whose planted defects include one apex-ls finds
across files (SummaryCaller calls a method SummaryService does not have) and one PMD finds (a SOQL injection).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from apexgen.check import daemon, runner
from tests.check_cases.projects import copy_case

pytestmark = pytest.mark.tools

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


def test_a_check_through_the_daemon_finds_what_the_tools_find_alone(project, monkeypatch):
    through_daemon = runner.run_checks(project, deep=True)
    [running] = daemon.running_daemons()
    assert running["workspace"] == str(project)
    assert through_daemon == without_daemon(project, monkeypatch)
    assert (f"{CLASSES}/SummaryCaller.cls", 3, "apex-ls", "Missing") in cross_file_and_pmd(through_daemon)
    assert (f"{CLASSES}/AccountSearch.cls", 4, "pmd", "ApexSOQLInjection") in cross_file_and_pmd(through_daemon)


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


def test_a_changed_forceignore_reloads_the_project(project, monkeypatch):
    runner.run_checks(project, deep=True)
    (project / ".forceignore").write_text("**/SummaryCaller.cls\n")
    after = runner.run_checks(project, deep=True)
    assert not any(f.file.endswith("SummaryCaller.cls") for f in after)
    assert after == without_daemon(project, monkeypatch)


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


def test_the_daemon_stops_when_idle_and_when_its_socket_goes(project, monkeypatch):
    monkeypatch.setattr(daemon, "IDLE_SECONDS", 1)
    runner.run_checks(project, deep=True)
    [idle] = daemon.running_daemons()
    assert wait_for_exit(idle["pid"], 15), "the daemon outlived its idle time"
    assert list(daemon.sockets_dir().glob("*.sock")) == []  # it removed its socket

    monkeypatch.setattr(daemon, "IDLE_SECONDS", 600)
    with (project / CLASSES / "SummaryCaller.cls").open("a") as caller:
        caller.write("// changed: apex-ls must look again\n")
    runner.run_checks(project, deep=True)
    [orphan] = daemon.running_daemons()
    next(daemon.sockets_dir().glob("*.sock")).unlink()
    assert wait_for_exit(orphan["pid"], 15), "the daemon outlived its socket"


def test_tools_stop_stops_the_daemons_and_status_lists_them(project, cli):
    runner.run_checks(project, deep=True)
    status = cli("tools", "status", "--project-dir", str(project))
    assert f"for {project}, idle" in status.output
    [running] = daemon.running_daemons()
    stopped = cli("tools", "stop")
    assert stopped.exit_code == 0 and "Stopped 1 check daemon(s)." in stopped.output
    assert wait_for_exit(running["pid"], 15)
    assert daemon.running_daemons() == []


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
