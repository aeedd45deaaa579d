"""The command line's one error boundary and its one exit-code table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from apexgen import __version__
from apexgen.cli import main
from apexgen.errors import EXIT_CODE_MEANINGS, ExitCode

REPO = Path(__file__).resolve().parents[1]


def test_every_exit_code_has_its_meaning_in_help_and_in_readme() -> None:
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)
    help_text = CliRunner().invoke(main, ["--help"]).output
    readme = (REPO / "README.md").read_text("utf-8")
    documented = {int(code) for code in re.findall(r"^\| (\d+) \| ", readme.split("## Exit codes", 1)[1], re.M)}
    assert documented == {int(code) for code in ExitCode}
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert re.search(rf"^\s+{int(code)}\s+{re.escape(meaning)}$", help_text, re.M), (code, help_text)


def crash(*args: object, **kwargs: object) -> None:
    raise KeyError("a bug")


def test_a_crash_is_one_line_with_the_internal_error_code_and_the_traceback_only_with_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("apexgen.generate.scaffold.init_project", crash)
    runner = CliRunner()
    plain = runner.invoke(main, ["init", str(tmp_path / "demo")])
    assert plain.exit_code == ExitCode.INTERNAL == 123
    assert plain.output.strip().splitlines() == [
        f"internal error: KeyError in apexgen {__version__}; please report it (run again with --debug or "
        "APEXGEN_DEBUG=1 for the traceback)"
    ]
    debug = runner.invoke(main, ["--debug", "init", str(tmp_path / "demo")])
    assert debug.exit_code == ExitCode.INTERNAL
    assert "Traceback (most recent call last)" in debug.output and "KeyError: 'a bug'" in debug.output
    monkeypatch.setenv("APEXGEN_DEBUG", "1")
    assert "Traceback" in runner.invoke(main, ["init", str(tmp_path / "demo")]).output


def test_a_library_error_is_one_line_with_its_own_exit_code(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "demo"), "--api-version", "12"])
    assert result.exit_code == ExitCode.USAGE
    assert result.output.startswith("error: --api-version: '12' must be a version such as 65.0")
    assert "Traceback" not in result.output
