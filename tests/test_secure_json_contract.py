"""Issue 23, item 10: with --json (or SF_CONTENT_TYPE=JSON) every command prints exactly one JSON document on
stdout, for every exit code, and nothing else; each document is sf's envelope (the schema below, after
sf-plugins-core's SfCommand.toSuccessJson and SfCommandError.toJson) and its status is the exit code.

Real runs cover the failures the hostile test found without JSON (a check error, a bad spec, a failing
Models API, click usage errors); every command is then driven to every documented exit code through its
own callback, so a command added later is held to the contract too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from click.testing import CliRunner

from apexgen.cli import main
from apexgen.errors import ApexgenError, EditedFilesError, ExitCode, UsageError
from tests.test_cli_json import leaf_commands

EXIT_CODES = [int(code) for code in ExitCode]
ENVELOPE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "oneOf": [
        {
            "type": "object",
            "required": ["status", "result", "warnings"],
            "additionalProperties": False,
            "properties": {
                "status": {"enum": EXIT_CODES},
                "result": {},
                "warnings": {"type": "array", "items": {"type": "string"}},
            },
        },
        {
            "type": "object",
            "required": ["name", "message", "exitCode", "status", "code", "commandName", "context", "warnings"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "message": {"type": "string", "minLength": 1, "pattern": "^[^\\n\\r]*$"},
                "exitCode": {"enum": EXIT_CODES},
                "status": {"enum": EXIT_CODES},
                "code": {"type": "string", "pattern": "^[0-9]+$"},
                "commandName": {"type": "string"},
                "context": {"type": "string"},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "data": {},
            },
        },
    ],
}
VALIDATOR = jsonschema.Draft202012Validator(ENVELOPE)  # checked once: validate() would check it every call
COMMANDS = {" ".join(path): command for path, command in leaf_commands(main)}


def json_run(
    args: list[str], env: dict[str, str | None] | None = None, via: str = "flag"
) -> tuple[int, dict[str, Any]]:
    """Run apexgen with JSON on; the exit code and the one document stdout holds (validated)."""
    argv = [*args, "--json"] if via == "flag" else args
    environment = {"SF_CONTENT_TYPE": "JSON" if via == "env" else None, **(env or {})}
    result = CliRunner().invoke(main, argv, env=environment)
    document = json.loads(result.stdout)  # fails on anything but one JSON document (whitespace aside)
    VALIDATOR.validate(document)
    assert document["status"] == result.exit_code, document
    assert "Traceback" not in result.output
    return result.exit_code, document


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    return root


@pytest.mark.parametrize(
    ("case", "exit_code"),
    [
        ("check of no project", 2),
        ("check with a bad --severity-threshold", 2),
        ("generate with a bad spec", 2),
        ("deploy --test-level Bogus", 2),
        ("models generate when the API cannot be reached", 4),
        ("check with findings", 1),
        ("generate", 0),
        ("convert", 0),
        ("tools status", 0),
    ],
)
@pytest.mark.parametrize("via", ["flag", "env"])
def test_real_runs_print_one_envelope(case: str, exit_code: int, via: str, project: Path, tmp_path: Path) -> None:
    spec = project / "apexgen.toml"
    args = {
        "check of no project": ["check", "--project-dir", str(tmp_path / "nowhere")],
        "check with a bad --severity-threshold": ["check", "--project-dir", str(project), "--severity-threshold", "x"],
        "generate with a bad spec": ["generate", "--project-dir", str(project)],
        "deploy --test-level Bogus": ["deploy", "--project-dir", str(project), "--test-level", "Bogus"],
        "models generate when the API cannot be reached": ["models", "generate", "-m", "m", "hello"],
        "check with findings": ["check", "--project-dir", str(project)],
        "generate": ["generate", "--project-dir", str(project)],
        "convert": ["convert", "--project-dir", str(project), "--zip", str(tmp_path / "out.zip")],
        "tools status": ["tools", "status", "--project-dir", str(project)],
    }[case]
    if case == "generate with a bad spec":
        spec.write_text(spec.read_text() + "\n[[prompt]]\nname = 1\n")
    if case == "convert":
        CliRunner().invoke(main, ["generate", "--project-dir", str(project)])
    env: dict[str, str | None] = {
        "SF_INSTANCE_URL": "https://127.0.0.1:9",  # nothing listens on the discard port
        "SF_CLIENT_ID": "key",
        "SF_CLIENT_SECRET": "secret",
        "APEXGEN_HTTP_TIMEOUT": "2",
    }
    code, document = json_run(args, env, via)
    assert code == exit_code, document


class _Raised(ApexgenError):
    exit_code = ExitCode.CONNECTION


RAISED: dict[int, BaseException] = {
    ExitCode.FINDINGS: ApexgenError("something failed"),
    ExitCode.USAGE: UsageError("--flag: a bad value"),
    ExitCode.EDITED: EditedFilesError([("force-app/x.cls", "its content changed")]),
    ExitCode.CONNECTION: _Raised("login at https://x failed: cannot reach it"),
    ExitCode.INTERNAL: KeyError("a bug"),
    ExitCode.INTERRUPTED: KeyboardInterrupt(),
}


@pytest.mark.parametrize("exit_code", sorted(RAISED))
@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_and_every_exit_code_is_one_envelope(
    path: str, exit_code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = COMMANDS[path]

    def fail(*args: object, **kwargs: object) -> None:
        raise RAISED[exit_code]

    monkeypatch.setattr(command, "callback", fail)
    monkeypatch.setattr(command, "params", [p for p in command.params if not p.required])
    code, document = json_run([*path.split()])
    assert code == exit_code
    assert document["commandName"] == path and "name" in document


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_s_usage_error_is_one_envelope(path: str) -> None:
    code, document = json_run([*path.split(), "--no-such-flag"])
    assert code == ExitCode.USAGE and document["name"] == "NoSuchOption"


def test_the_schema_rejects_what_is_not_the_envelope() -> None:
    for wrong in ({"status": 0}, {"status": 0, "result": 1, "warnings": [], "extra": 1}, {"name": "X"}):
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(wrong)
    assert isinstance(COMMANDS["check"], click.Command)
