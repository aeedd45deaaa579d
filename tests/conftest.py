"""Shared fixtures: a CLI runner and small project builders."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from apexgen.cli import main

REPO = Path(__file__).resolve().parent.parent
REFERENCE_SPEC = REPO / "apexgen.toml"

# Projects the tests make live in temporary folders: they use the Node tools the test command
# installs into the repository (npm ci), not a per-user cache.
os.environ.setdefault("APEXGEN_TOOLS_DIR", str(REPO))
# A shell starts background jobs with SIGINT ignored, and children inherit that: the Ctrl-C tests
# (tests/fakes/terminal.py) would press a key no one hears. Each test process takes SIGINT back.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# A deep check starts a daemon that outlives it; the tests of the daemon turn it on for themselves
# (tests/test_check_daemon.py) and stop what they start.
os.environ["APEXGEN_NO_DAEMON"] = "1"


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, cwd: Path | None = None):
        if cwd is None:
            return self.runner.invoke(main, list(args), catch_exceptions=False)
        with contextlib.chdir(cwd):
            return self.runner.invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def project(tmp_path: Path, cli: Cli) -> Path:
    """A fresh project made by ``apexgen init`` (not yet generated)."""
    root = tmp_path / "demo"
    result = cli("init", str(root))
    assert result.exit_code == 0, result.output
    return root


def unplaced(text: str) -> str:
    """``text`` without the line and column spec errors carry (``apexgen.toml:18:1:`` -> ``apexgen.toml:``), for the
    tests about a key and its rule (tests/test_spec.py checks the positions)."""
    return re.sub(r"apexgen\.toml:\d+:\d+:", "apexgen.toml:", text)


def write_spec(root: Path, text: str) -> Path:
    path = root / "apexgen.toml"
    path.write_text(text, "utf-8")
    return path


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative posix path -> text)."""
    return {p.relative_to(root).as_posix(): p.read_text("utf-8") for p in sorted(root.rglob("*")) if p.is_file()}


def copy_reference(tmp_path: Path) -> Path:
    """A copy of the repository's reference project (spec, sfdx-project.json, force-app, manifest)."""
    root = tmp_path / "reference"
    root.mkdir()
    for name in ("apexgen.toml", "sfdx-project.json", ".prettierrc", ".forceignore"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "force-app", root / "force-app")
    shutil.copytree(REPO / ".apexgen", root / ".apexgen")
    return root
