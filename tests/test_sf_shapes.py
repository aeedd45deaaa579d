"""apexgen against the sf CLI's own shapes, recorded from sf's sources in tests/sf_cli/shapes.json (the source files
and commits are named there): the JSON documents of sf-plugins-core's SfCommand and SfCommandError, and the flags of
plugin-deploy-retrieve's `sf project deploy start`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from apexgen.cli import main
from apexgen.errors import ExitCode
from tests.test_secure_json_contract import ENVELOPE

SF = json.loads((Path(__file__).parent / "sf_cli/shapes.json").read_text("utf-8"))
SUCCESS, FAILURE = SF["json"]["success"], SF["json"]["failure"]
DEPLOY_START = SF["project deploy start"]
# apexgen's flag -> the sf flag it stands for (same meaning); apexgen deploys package directories (sf's source-dir)
SAME_AS_SF = {
    "target-org": "target-org",
    "test-level": "test-level",
    "tests": "tests",
    "wait": "wait",
    "package-dir": "source-dir",
    "dry-run": "dry-run",
    "json": "json",
}
JSON_TYPES = {"integer": int, "string": str, "array": list}


def holds(value: Any, kind: str) -> bool:
    return kind == "any" or (isinstance(value, JSON_TYPES[kind]) and not isinstance(value, bool))


def documents(tmp_path: Path) -> dict[str, tuple[int, dict[str, Any]]]:
    """Real --json documents of apexgen: successes, findings, and failures of each kind."""
    root = tmp_path / "demo"
    runs = {
        "init": ["init", str(root), "--json"],
        "check findings": ["check", "--project-dir", str(root), "--json"],
        "generate": ["generate", "--project-dir", str(root), "--json"],
        "check": ["check", "--project-dir", str(root), "--json"],
        "usage error": ["deploy", "--project-dir", str(root), "--test-level", "Sometimes", "--json"],
        "spec error": ["generate", "--project-dir", str(tmp_path), "--json"],
    }
    found = {}
    for what, args in runs.items():
        result = CliRunner().invoke(main, args)
        found[what] = (result.exit_code, json.loads(result.stdout))
    return found


def test_every_document_has_the_shape_sf_prints(tmp_path: Path) -> None:
    found = documents(tmp_path)

    assert {what: code for what, (code, _) in found.items()} == {
        "init": ExitCode.OK,
        "check findings": ExitCode.FINDINGS,  # not generated yet
        "generate": ExitCode.OK,
        "check": ExitCode.OK,
        "usage error": ExitCode.USAGE,
        "spec error": ExitCode.USAGE,
    }
    for what, (code, document) in found.items():
        if "error" in what:
            assert set(FAILURE["always"]) <= set(document) <= set(FAILURE["always"]) | set(FAILURE["optional"]), what
            kinds = FAILURE["always"] | FAILURE["optional"]
            # sf: status is the exit code, code its string, context the command's name by default
            assert document["status"] == document["exitCode"] == code and document["code"] == str(code), what
        else:
            assert set(document) == set(SUCCESS["keys"]), what
            kinds = SUCCESS["keys"]
            assert document["status"] == code, what  # sf: process.exitCode
        assert all(holds(document[key], kinds[key]) for key in document), (what, document)


def test_the_json_contract_names_only_what_sf_prints() -> None:
    """The JSON schema every command is held to (tests/test_secure_json_contract.py) against sf's recorded shapes."""
    success, failure = ENVELOPE["oneOf"]
    assert set(success["required"]) == set(success["properties"]) == set(SUCCESS["keys"])
    assert set(failure["required"]) == set(FAILURE["always"]) | {"warnings"}
    assert set(failure["properties"]) <= set(FAILURE["always"]) | set(FAILURE["optional"])
    # apexgen never prints sf's stack and cause: no traceback in any output
    assert not {"stack", "cause"} & set(failure["properties"])


def _flags(command: click.Command) -> dict[str, click.Parameter]:
    return {opt[2:]: p for p in command.params for opt in p.opts if opt.startswith("--")}


@pytest.mark.parametrize("command", ["deploy", "test"])
def test_flags_that_mean_what_sf_s_mean_take_sf_s_short_form_and_repetition(command: str) -> None:
    flags = _flags(main.commands[command])  # type: ignore[attr-defined]
    for ours, theirs in SAME_AS_SF.items():
        if ours not in flags:
            continue  # `apexgen test` deploys nothing: no dry run, no package directories
        sf = DEPLOY_START["flags"][theirs]
        parameter = flags[ours]
        shorts = [opt[1:] for opt in parameter.opts if not opt.startswith("--")]
        assert shorts == ([sf["char"]] if sf["char"] else []), ours
        assert getattr(parameter, "multiple", False) == sf["multiple"], ours
        assert getattr(parameter, "is_flag", False) == sf["boolean"], ours
    # no short flag means something else than it means to sf
    for name, parameter in flags.items():
        for short in (opt[1:] for opt in parameter.opts if not opt.startswith("--")):
            if short in DEPLOY_START["flagChars"]:
                assert DEPLOY_START["flags"][SAME_AS_SF[name]]["char"] == short, (name, short)


def test_test_levels_are_sf_s_and_its_wait_default() -> None:
    flags = _flags(main.commands["deploy"])  # type: ignore[attr-defined]

    levels = flags["test-level"].type
    assert isinstance(levels, click.Choice) and set(levels.choices) <= set(
        DEPLOY_START["flags"]["test-level"]["options"]
    )
    assert flags["wait"].default == str(DEPLOY_START["flags"]["wait"]["default_minutes"])


def test_sf_s_content_type_variable_is_the_one_apexgen_reads(tmp_path: Path) -> None:
    variable = SF["json"]["content_type_variable"]

    result = CliRunner().invoke(main, ["init", str(tmp_path / "demo")], env={variable: "json"})

    assert json.loads(result.stdout)["status"] == 0
