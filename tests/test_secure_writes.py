"""Issue 23, item 12: what a killed, a concurrent or a failing ``apexgen generate`` leaves, and what the check says.

Each defect has its own test, and each failed on main before its fix (run with generator/ of main; see
the helper's note): a kill mid-write left a ``.apexgen-tmp`` in force-app that no check mentioned and no
generate removed; a check racing a generate reported its new files as hand edits; a second generate beside a
first made the first fail with "journal.json: cannot be written"; ``atomic_write`` renamed files unflushed;
a symlinked ``--output-dir`` said "Not a directory"; a full disk said "recorded in journal" when no journal
was written.

A generate is paused mid-write in a process of its own (``PAUSED_GENERATE``): it runs the real command and
holds still at the rename of the file with a given name, until the test lets it go,
or is killed there.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from apexgen.check.fast import check_manifest
from apexgen.errors import ExitCode
from apexgen.generate import manifest, write
from tests.conftest import tree

CLASSES = "force-app/main/default/classes"
RATE_ANSWER = '[[prompt]]\nname = "RateAnswer"\ncapability = "feedback"\nexpose = ["flow", "lwc"]\n'
RATE_ANSWER += 'description = "Sends feedback about a generated answer."\n'

# argv: the name of the file to pause at, the marker file to create there, then "kill" or the file whose
# existence lets the rename go on, then apexgen's arguments. The name must match whole: files are written by
# several threads, so "RateAnswerService.cls" would also pause at its -meta.xml, which may come first.
PAUSED_GENERATE = """
import os, signal, sys, time
from pathlib import Path

name, paused, then = sys.argv[1:4]
real_replace = os.replace

def replace(src, dst):
    if Path(dst).name == name and not Path(paused).exists():
        Path(paused).touch()
        if then == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        deadline = time.monotonic() + 120
        while not Path(then).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    real_replace(src, dst)

os.replace = replace
from apexgen.cli import main
main(sys.argv[4:], prog_name="apexgen")
"""


def apexgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apexgen", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@contextmanager
def paused_generate(project: Path, name: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A generate of ``project`` held at the rename of the file called ``name``; yields the process and the
    file that lets it go on."""
    paused, go = tmp_path / "paused", tmp_path / "go"
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSED_GENERATE, name, str(paused), str(go), "generate"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(paused.exists, process)
        yield process, go
    finally:
        go.touch()
        if process.returncode is None:
            process.communicate(timeout=300)


def wait_for(condition: object, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    assert condition(), "the paused generate never reached its pause"  # type: ignore[operator]


def temporaries(root: Path) -> list[str]:
    return sorted(path for path in tree(root) if path.endswith(".apexgen-tmp"))


def generated(cli, project: Path) -> None:
    result = cli("generate", cwd=project)
    assert result.exit_code == 0, result.output


def test_a_kill_mid_write_then_a_removed_prompt_leaves_no_temporary_and_check_reports_one(
    cli, project: Path, tmp_path: Path
) -> None:
    """Before: the temporary of RateAnswer's class stayed in force-app for good, and check never said so."""
    killed = subprocess.run(
        [sys.executable, "-c", PAUSED_GENERATE, "RateAnswerService.cls", str(tmp_path / "k"), "kill", "generate"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr
    left = temporaries(project)
    assert f"{CLASSES}/.RateAnswerService.cls.apexgen-tmp" in left

    spec = project / "apexgen.toml"
    spec.write_text(re.sub(r'(?m)^feedback = "RateAnswer".*\n', "", spec.read_text().replace(RATE_ANSWER, "")))
    checked = cli("check", "--json", cwd=project)
    for path in left:
        assert f'"file": "{path}"' in checked.stdout and "stray-temporary" in checked.stdout, checked.stdout

    generated(cli, project)
    assert temporaries(project) == []
    assert not list((project / CLASSES).glob("RateAnswer*"))
    again = cli("check", cwd=project)
    assert again.exit_code == 0 and "stray-temporary" not in again.stdout, again.output


def test_check_reports_a_temporary_file_anywhere_in_the_project(cli, project: Path) -> None:
    generated(cli, project)
    (project / "force-app/main/default/lwc/.stale.js.apexgen-tmp").write_text("half")
    result = cli("check", cwd=project)
    assert result.exit_code == 0, result.output  # a temporary is never deployed: a moderate finding
    assert (
        "force-app/main/default/lwc/.stale.js.apexgen-tmp:0:0 moderate manifest stray-temporary "
        "a temporary file an interrupted 'apexgen generate' left" in result.stdout
    )


def test_a_check_racing_a_generate_reports_no_hand_edits(
    cli, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check reads the records, a generate then rewrites every file and its records, the check reads the
    files. Before: hundreds of "edited by hand" findings. Now the generate waits for the check's shared lock."""
    generated(cli, project)
    spec = project / "apexgen.toml"
    spec.write_text(spec.read_text().replace("Sends feedback about", "Records feedback on"))
    read_records, records_read, settled = write.read_records, threading.Event(), threading.Event()
    said: list[str] = []

    def generate_meanwhile() -> None:
        records_read.wait(60)
        process = subprocess.Popen(
            [sys.executable, "-m", "apexgen", "generate"], cwd=project, stderr=subprocess.PIPE, text=True
        )
        assert process.stderr is not None
        said.append(process.stderr.readline())  # "Waiting..." now; before, a line once it had written all
        settled.set()
        said.append(process.stderr.read())
        said.append(str(process.wait()))

    def read_then_let_the_generate_run(root: Path, paths: object = None) -> object:
        records = read_records(root)
        records_read.set()
        settled.wait(60)
        return records

    monkeypatch.setattr(write, "read_records", read_then_let_the_generate_run)
    generator = threading.Thread(target=generate_meanwhile)
    generator.start()
    findings = check_manifest(project)
    generator.join(timeout=300)
    assert [f for f in findings if f.rule == "edited"] == []
    assert said[0] == "Waiting for another apexgen command in this project to finish...\n", said
    assert said[2] == "0", said


def test_a_check_during_a_generate_that_does_not_end_is_incomplete(
    cli, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated(cli, project)
    spec = project / "apexgen.toml"
    spec.write_text(spec.read_text().replace("Sends feedback about", "Records feedback on"))
    monkeypatch.setattr(manifest, "LOCK_WAIT_SECONDS", 0.5, raising=False)
    with paused_generate(project, "RateAnswerService.cls", tmp_path):
        result = cli("check", "--json", cwd=project)
    assert result.exit_code == ExitCode.INCOMPLETE, result.output
    assert '"rule": "edited"' not in result.stdout
    assert (
        "manifest did not run here: another 'apexgen generate' holds this project's lock; waited 0.5 s for it"
        in result.stdout
    )


def test_a_second_generate_waits_for_the_first(cli, project: Path, tmp_path: Path) -> None:
    """Before: the second ran beside the first, which then failed with "journal.json: cannot be written"."""
    with paused_generate(project, "RateAnswerService.cls", tmp_path) as (first, go):
        second = subprocess.Popen(
            [sys.executable, "-m", "apexgen", "generate"], cwd=project, stderr=subprocess.PIPE, text=True
        )
        assert second.stderr is not None
        line = second.stderr.readline()  # the first thing it says, or "" when it ended
        assert line == "Waiting for another apexgen command in this project to finish...\n", line
        assert second.poll() is None
        go.touch()
        first_out, first_err = first.communicate(timeout=300)
        second_err = second.stderr.read()
        assert second.wait(timeout=300) == 0, second_err
    assert first.returncode == 0, first_err
    assert "Generated" in second_err and "create" not in second_err  # it planned against the first's files
    assert not (project / ".apexgen/journal.json").exists() and temporaries(project) == []
    assert cli("generate", "--check", cwd=project).exit_code == 0


def test_a_generate_waits_a_bounded_time_then_says_why(cli, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifest, "LOCK_WAIT_SECONDS", 0.3)
    with manifest.records_lock(project, exclusive=True):
        result = cli("generate", cwd=project)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.endswith(
        "another apexgen command (a generate or a check) holds this project's lock; waited 0.3 s for it: "
        "run again when it has finished\n"
    )
    assert not (project / "force-app/main/default/classes").exists()


@pytest.mark.parametrize("flushes", ["the file system at once", "each file"])
def test_every_file_is_flushed_to_disk_before_the_manifest_records_it(
    cli, project: Path, monkeypatch: pytest.MonkeyPatch, flushes: str
) -> None:
    """Before: atomic_write renamed files it never flushed; a power cut after the manifest could leave
    them empty while the manifest vouches for them. Each file's content is flushed after it is written and
    before it is renamed (by its own fsync, or by one syncfs of its file system where Linux has it), and
    each rename before the manifest."""
    events: list[tuple[str, str]] = []
    real_open, real_fsync, real_replace = os.open, os.fsync, os.replace
    syncfs = manifest.whole_file_system_sync()
    assert syncfs is not None  # Linux 5.8 or later, where the tests run

    def opened(path: object, flags: int, mode: int = 0o777) -> int:
        fd = real_open(path, flags, mode)  # type: ignore[arg-type]
        if str(path).endswith(".apexgen-tmp"):
            events.append(("write", os.path.realpath(path)))  # type: ignore[arg-type]
        return fd

    def fsync(fd: int) -> None:
        events.append(("fsync", os.path.realpath(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def whole_file_system(fd: int) -> None:
        events.append(("syncfs", os.path.realpath(f"/proc/self/fd/{fd}")))
        syncfs(fd)

    def replace(src: object, dst: object) -> None:
        events.append(("replace", os.path.realpath(dst)))  # type: ignore[arg-type]
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", opened)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    at_once = flushes == "the file system at once"
    monkeypatch.setattr(manifest, "whole_file_system_sync", lambda: whole_file_system if at_once else None)
    generated(cli, project)
    monkeypatch.undo()
    root = str(project.resolve())

    def flushed(path: str, start: int, end: int) -> bool:
        device = os.stat(Path(path).parent).st_dev
        return any(
            (kind == "fsync" and flushed_path == path) or (kind == "syncfs" and os.stat(flushed_path).st_dev == device)
            for kind, flushed_path in events[start:end]
        )

    manifest_at = events.index(("replace", f"{root}/.apexgen/manifest.json"))
    renamed = [(at, dst) for at, (kind, dst) in enumerate(events[:manifest_at]) if kind == "replace"]
    renamed = [(at, dst) for at, dst in renamed if dst.startswith(f"{root}/") and "/.apexgen/" not in dst]
    assert len(renamed) > 100
    for at, path in renamed:
        temporary = str(Path(path).with_name(f".{Path(path).name}.apexgen-tmp"))
        written = max(i for i, event in enumerate(events[:at]) if event == ("write", temporary))
        assert flushed(temporary, written, at), f"{path} was renamed before its content was flushed"
        assert flushed(str(Path(path).parent), at, manifest_at), f"{path}: its rename was not flushed"
    assert any(kind == "syncfs" for kind, _ in events) == at_once


def test_a_failed_flush_leaves_no_temporary_and_the_next_generate_finishes(
    cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """syncfs reports a write error of any file on the file system (EIO): the generate stops before any
    rename and says so in one line; nothing half-written stays."""

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(manifest, "whole_file_system_sync", lambda: failing)
    result = cli("generate", cwd=project)
    monkeypatch.undo()
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.count("\n") == 1 and "cannot be written (Input/output error)" in result.stderr
    assert "recorded in .apexgen/journal.json: the next 'apexgen generate' finishes the job" in result.stderr
    assert temporaries(project) == [] and list((project / CLASSES).iterdir()) == []  # no file renamed into place
    generated(cli, project)
    assert temporaries(project) == [] and not (project / ".apexgen/journal.json").exists()
    assert cli("generate", "--check", cwd=project).exit_code == 0


@pytest.mark.parametrize("fails", ["journal", "file"])
def test_a_full_disk_says_what_state_the_project_is_in(
    cli, project: Path, monkeypatch: pytest.MonkeyPatch, fails: str
) -> None:
    """Before: "files written so far are recorded in .apexgen/journal.json" even when the journal itself
    could not be written."""
    real_open = os.open

    def full_disk(path: object, flags: int, mode: int = 0o777) -> int:
        if str(path).endswith(".apexgen-tmp") and (fails == "file") != ("journal" in str(path)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_open(path, flags, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", full_disk)
    result = cli("generate", cwd=project)
    monkeypatch.undo()
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.count("\n") == 1 and "cannot be written (No space left on device)" in result.stderr
    if fails == "journal":
        assert result.stderr.endswith("; no file was changed\n"), result.stderr
        assert not (project / "force-app").exists() and not (project / ".apexgen/journal.json").exists()
    else:
        assert "recorded in .apexgen/journal.json: the next 'apexgen generate' finishes the job" in result.stderr
        assert (project / ".apexgen/journal.json").exists()
        generated(cli, project)
    assert temporaries(project) == []


@pytest.mark.parametrize("target", ["real", "missing"])
def test_a_symlinked_output_dir_is_named_as_such(cli, tmp_path: Path, target: str) -> None:
    """Before: "--output-dir out: cannot write it (Not a directory)", after converting."""
    from tests.test_secure_forceignore import write_project

    root = write_project(tmp_path / "project")
    if target == "real":
        (tmp_path / target).mkdir()
    (tmp_path / "out").symlink_to(tmp_path / target)
    result = cli("convert", "--project-dir", str(root), "--output-dir", str(tmp_path / "out"))
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (
        f"error: --output-dir {tmp_path / 'out'}: is a symbolic link (to {tmp_path / target}); "
        "name the folder itself, or a new one\n"
    )
