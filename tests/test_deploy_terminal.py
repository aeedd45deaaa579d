"""Progress display: drawn on a terminal (stage, components and tests of total), absent when stderr is a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from tests.fakes.org import Scenario, running_org, write_sample_project

REPO = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def deploy_with_stderr_on(tmp_path: Path, terminal: bool) -> tuple[int, str, str]:
    project = write_sample_project(tmp_path / "project")
    with running_org() as (org, server):
        org.scenario = Scenario(duration=3.0, pending=0.6)
        env = {**os.environ, "PYTHONPATH": str(REPO), "REQUESTS_CA_BUNDLE": server.ca_bundle,
               "SF_ACCESS_TOKEN": org.access_token, "TERM": "xterm-256color"}
        env.pop("NO_COLOR", None)
        command = [sys.executable, "-m", "generator", "deploy", "--project-dir", str(project), "--skip-checks",
                   "--instance-url", org.url]
        if not terminal:
            completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
            return completed.returncode, completed.stdout, completed.stderr
        main_fd, child_fd = pty.openpty()
        fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=child_fd, text=True)
        os.close(child_fd)
        chunks = []
        while True:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = process.stdout.read()
        process.wait(timeout=30)
        os.close(main_fd)
        return process.returncode, stdout, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_terminal_shows_stage_and_counts(tmp_path: Path) -> None:
    code, stdout, stderr = deploy_with_stderr_on(tmp_path, terminal=True)
    assert code == 0
    assert "Waiting for the org" in stderr
    assert re.search(r"(Deploying metadata|Running tests)\s.*\d+/4\s+components", stderr)
    assert re.search(r"\d/2\s+tests", stderr)
    assert stdout.startswith("Deploy 0Af000000000001AAA: Succeeded")  # the report itself stays plain on stdout
    assert "\x1b" not in stdout


def test_pipe_gets_no_progress_display(tmp_path: Path) -> None:
    code, stdout, stderr = deploy_with_stderr_on(tmp_path, terminal=False)
    assert code == 0
    assert "Waiting for the org" not in stderr and not re.search(r"\d+/4\s+components", stderr)
    assert "\x1b" not in stderr
    assert stderr.splitlines()[-1].startswith("Deploy 0Af000000000001AAA started: 4 components")
