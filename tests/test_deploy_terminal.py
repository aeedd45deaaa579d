"""Progress display: drawn on a terminal (stage, components and tests of total), absent when stderr is a pipe."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.fakes.org import Scenario, deploy_command, running_org, write_sample_project
from tests.fakes.terminal import run_with_stderr_on_terminal

REPO = Path(__file__).resolve().parents[1]


def deploy_with_stderr_on(tmp_path: Path, terminal: bool) -> tuple[int, str, str]:
    project = write_sample_project(tmp_path / "project")
    with running_org() as (org, server):
        org.scenario = Scenario(duration=3.0, pending=0.6)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO / "generator"),
            "REQUESTS_CA_BUNDLE": server.ca_bundle,
            "SF_ACCESS_TOKEN": org.access_token,
            "TERM": "xterm-256color",
        }
        env.pop("NO_COLOR", None)
        command = deploy_command(org, project)
        if not terminal:
            completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
            return completed.returncode, completed.stdout, completed.stderr
        return run_with_stderr_on_terminal(command, env)


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
