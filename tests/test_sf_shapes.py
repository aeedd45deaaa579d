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


# The org each command talks to, named and defaulted as sf names it: the 2GP commands talk to the Dev Hub, which sf's
# package commands take as --target-dev-hub (-v) and default from SF_TARGET_DEV_HUB and target-dev-hub, not from the
# default org (often a scratch org); every other org command takes --target-org (-o).
DEV_HUB_COMMANDS = {"package create", "package version create", "package version promote"}


def _org_commands() -> dict[str, click.Command]:
    from tests.test_cli_json import leaf_commands

    return {
        " ".join(path): command
        for path, command in leaf_commands(main)  # type: ignore[arg-type]
        if {"target-org", "target-dev-hub"} & set(_flags(command))
    }


@pytest.mark.parametrize("path", sorted(_org_commands()))
def test_each_command_names_its_org_as_sf_does(path: str) -> None:
    flags = _flags(_org_commands()[path])
    org = SF["orgs"]["dev hub" if path in DEV_HUB_COMMANDS else "org"]
    other = SF["orgs"]["org" if path in DEV_HUB_COMMANDS else "dev hub"]

    assert org["flag"] in flags and other["flag"] not in flags, path
    assert [o for o in flags[org["flag"]].opts if not o.startswith("--")] == [f"-{org['char']}"], path
    # no other flag takes the org's or the Dev Hub's short form (sf's --verbose has none)
    shorts = {o for p in flags.values() if p is not flags[org["flag"]] for o in p.opts if not o.startswith("--")}
    assert not shorts & {"-o", "-v"}, (path, shorts)


@pytest.mark.parametrize("where", ["-v", "variable", "project config", "user config"])
def test_the_dev_hub_defaults_as_sf_s_package_commands_default_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    from apexgen.org.connect import LoginOptions, plan_login

    dev_hub = SF["orgs"]["dev hub"]
    bin_dir, project, home = tmp_path / "bin", tmp_path / "project", tmp_path / "home"
    for folder in (bin_dir, project / ".sf", home / ".sf"):
        folder.mkdir(parents=True)
    (bin_dir / "sf").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "sf").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    # sf's default org is never taken for the Dev Hub
    environ = {SF["orgs"]["org"]["variable"]: "scratch"}
    (project / ".sf/config.json").write_text(json.dumps({"target-org": "scratch"}))
    (home / ".sf/config.json").write_text(json.dumps({"target-org": "scratch"}))
    named = None
    if where == "-v":
        named = "hub"
    elif where == "variable":
        environ[dev_hub["variable"]] = "hub"
        (project / ".sf/config.json").write_text(json.dumps({dev_hub["config"]: "nope"}))  # the environment first
    elif where == "project config":
        (project / ".sf/config.json").write_text(json.dumps({dev_hub["config"]: "hub"}))
        (home / ".sf/config.json").write_text(json.dumps({dev_hub["config"]: "nope"}))  # the project's first
    else:
        (home / ".sf/config.json").write_text(json.dumps({dev_hub["config"]: "hub"}))

    plan = plan_login(LoginOptions(target_org=named, project_root=project, dev_hub=True), environ, home=home)

    assert plan.method.startswith("sf CLI org hub"), plan.method


def test_without_a_dev_hub_the_error_names_sf_s_dev_hub_flag_variable_and_config(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["init", str(tmp_path / "demo"), "--namespace", "acme"])

    result = CliRunner().invoke(
        main,
        ["package", "version", "create", "--project-dir", str(tmp_path / "demo"), "--json"],
        env={"HOME": str(tmp_path), "SF_TARGET_ORG": "scratch", "PATH": ""},
    )

    assert result.exit_code == ExitCode.USAGE
    message = json.loads(result.stdout)["message"]
    assert message.startswith("no org to connect to: pass --target-dev-hub ALIAS (or -v; or set SF_TARGET_DEV_HUB")
