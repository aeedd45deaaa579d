"""Every command's --json is the sf CLI's envelope (sf-plugins-core SfCommand.toSuccessJson, SfCommandError.toJson):
one document on stdout for a success, for findings and for every failure, also with SF_CONTENT_TYPE=JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from apexgen.cli import main
from apexgen.errors import ExitCode

FAILURE_KEYS = {"name", "message", "exitCode", "status", "code", "commandName", "context", "warnings"}


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += leaf_commands(command, (*path, name))
        else:
            found.append(((*path, name), command))
    return found


@pytest.mark.parametrize("path", [" ".join(path) for path, _ in leaf_commands(main)])
def test_every_command_has_json(path: str) -> None:
    command = {" ".join(p): c for p, c in leaf_commands(main)}[path]
    assert "--json" in {option for parameter in command.params for option in parameter.opts}, path


# The commands that read no project; every other takes --project-dir (issue 26: "--project-dir everywhere").
PROJECT_FREE = {"init": "makes a project", "models list": "prints apexgen's table", "tools install": "per-user cache"}


@pytest.mark.parametrize("path", [" ".join(path) for path, _ in leaf_commands(main)])
def test_every_command_that_reads_a_project_takes_project_dir(path: str) -> None:
    command = {" ".join(p): c for p, c in leaf_commands(main)}[path]
    options = {option for parameter in command.params for option in parameter.opts}
    assert ("--project-dir" in options) == (path not in PROJECT_FREE), path


def test_success_is_status_result_warnings(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "demo"), "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert set(document) == {"status", "result", "warnings"} and document["status"] == 0
    assert "apexgen.toml" in document["result"]["created"] and document["warnings"] == []


def test_findings_keep_the_result_with_the_exit_code_as_status(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["init", str(tmp_path / "demo")])
    result = CliRunner().invoke(main, ["check", "--project-dir", str(tmp_path / "demo"), "--json"])
    assert result.exit_code == ExitCode.FINDINGS
    document = json.loads(result.stdout)
    assert document["status"] == 1 and document["result"]["summary"]["failed"] is True


def test_sf_content_type_turns_json_on_without_the_flag(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "demo")], env={"SF_CONTENT_TYPE": "json"})
    assert json.loads(result.stdout)["status"] == 0


def test_a_click_usage_error_is_sf_s_error_document(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["package", "version", "create", "--bogus", "--json"])
    assert result.exit_code == ExitCode.USAGE
    document = json.loads(result.stdout)
    assert set(document) >= FAILURE_KEYS
    assert document["name"] == "NoSuchOption" and document["exitCode"] == document["status"] == 2
    assert document["code"] == "2" and document["commandName"] == "package version create"
    assert "Error: No such option" in result.stderr  # the person at the terminal still reads click's message


def test_an_apexgen_error_is_named_by_its_class_with_data(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["convert", "--project-dir", str(tmp_path), "--json"])
    assert result.exit_code == ExitCode.USAGE
    document = json.loads(result.stdout)
    assert document["name"] == "UsageError" and document["message"].startswith("say where to write")
    assert document["commandName"] == "convert"


def test_an_internal_error_is_a_document_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr("apexgen.generate.scaffold.init_project", crash)
    result = CliRunner().invoke(main, ["init", str(tmp_path / "demo")], env={"SF_CONTENT_TYPE": "JSON"})
    assert result.exit_code == ExitCode.INTERNAL
    document = json.loads(result.stdout)
    assert document["name"] == "InternalError" and document["exitCode"] == 123 and "Traceback" not in result.output


def test_warnings_are_listed_in_the_envelope(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    CliRunner().invoke(main, ["init", str(root)])
    CliRunner().invoke(main, ["generate", "--spec", str(root / "apexgen.toml")])
    (root / "force-app/main/default/classes/README.md").write_text("not metadata")
    result = CliRunner().invoke(
        main, ["convert", "--project-dir", str(root), "--zip", str(tmp_path / "d.zip"), "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["warnings"] and all(f"Warning: {w}" in result.stderr for w in document["warnings"])


def test_commands_find_their_project_from_any_folder_inside_it(tmp_path: Path) -> None:
    """As sf finds its project: the nearest folder upwards with sfdx-project.json, never a folder above it."""
    import contextlib

    root = tmp_path / "outer" / "demo"
    CliRunner().invoke(main, ["init", str(root)])
    (tmp_path / "outer" / "sfdx-project.json").write_text("{}")  # an enclosing project is never reached
    inside = root / "force-app" / "main" / "default"
    inside.mkdir(parents=True)
    with contextlib.chdir(inside):
        generated = CliRunner().invoke(main, ["generate", "--json"])
        assert generated.exit_code == 0, generated.output
        assert (root / "force-app/main/default/classes").is_dir()
        checked = CliRunner().invoke(main, ["check", "--json"])
        assert checked.exit_code == 0, checked.output
        converted = CliRunner().invoke(main, ["convert", "--zip", str(tmp_path / "out.zip"), "--json"])
        assert converted.exit_code == 0, converted.output
    with contextlib.chdir(tmp_path):
        elsewhere = CliRunner().invoke(main, ["generate", "--project-dir", str(root), "--dry-run", "--json"])
        assert elsewhere.exit_code == 0 and json.loads(elsewhere.stdout)["result"]["written"] is False


@pytest.mark.parametrize("path", [" ".join(path) for path, _ in leaf_commands(main)])
def test_every_command_s_help_ends_with_examples_that_parse(path: str) -> None:
    """Each example names the command and only flags it has (parsed by click, not run)."""
    import shlex

    from apexgen.cli.examples import EXAMPLES

    help_text = CliRunner().invoke(main, [*path.split(), "--help"]).output
    assert "Examples:" in help_text
    command = {" ".join(p): c for p, c in leaf_commands(main)}[path]
    for example, _ in EXAMPLES[path]:
        words = shlex.split(example.split(" > ")[0])
        assert words[: 1 + len(path.split())] == ["apexgen", *path.split()], example
        assert example in help_text
        command.make_context(path, words[1 + len(path.split()) :])  # raises on an unknown flag or bad value
