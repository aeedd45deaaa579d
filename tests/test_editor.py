"""Editor support and existing projects: the spec's schema for Even Better TOML, VS Code tasks whose problem
matchers read apexgen's output, SARIF, and apexgen init --existing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from apexgen.spec.load import schema
from tests.conftest import Cli

CLASSES = "force-app/main/default/classes"


def test_init_points_the_spec_at_its_schema_and_recommends_the_toml_extension(cli: Cli, project: Path) -> None:
    first_line = (project / "apexgen.toml").read_text().splitlines()[0]
    assert first_line == "#:schema ./.vscode/apexgen.schema.json"  # Even Better TOML's directive, relative to the spec
    assert json.loads((project / ".vscode/apexgen.schema.json").read_text()) == schema()
    recommended = json.loads((project / ".vscode/extensions.json").read_text())["recommendations"]
    assert "tamasfe.even-better-toml" in recommended


def test_every_key_of_the_schema_has_a_description() -> None:
    undescribed = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.get("properties", {}).items():
                if "description" not in value and "$ref" not in value:
                    undescribed.append(f"{where}.{key}")
                walk(value, f"{where}.{key}")
            for part in ("items", "additionalProperties"):
                walk(node.get(part), where)
            for branch in node.get("oneOf", []) + node.get("anyOf", []):
                walk(branch, where)
            for name, definition in node.get("$defs", {}).items():
                walk(definition, f"#{name}")

    walk(schema(), "")
    assert undescribed == []


def problem_matchers(project: Path) -> dict[str, re.Pattern[str]]:
    tasks = json.loads((project / ".vscode/tasks.json").read_text())["tasks"]
    return {task["label"]: re.compile(task["problemMatcher"]["pattern"]["regexp"]) for task in tasks}


def test_the_vscode_task_reads_every_check_line_with_vscode_severities_and_positions_from_1(
    cli: Cli, project: Path
) -> None:
    cli("generate", cwd=project)
    service = project / CLASSES / "SummarizeCaseService.cls"
    service.write_text(service.read_text() + "\n")  # edited by hand: a finding about the whole file
    (project / CLASSES / "Broken.cls-meta.xml").write_text("<ApexClass")
    result = cli("check", "--format", "vscode", cwd=project)
    lines = result.stdout.splitlines()
    assert len(lines) >= 2
    matcher = problem_matchers(project)["apexgen: check"]
    for line in lines:
        match = matcher.match(line)
        assert match, line
        assert int(match[2]) >= 1 and int(match[3]) >= 1 and match[4] in ("error", "warning", "info")
        assert (project / match[1]).exists()
    assert any(line.startswith(f"{CLASSES}/SummarizeCaseService.cls:1:1: warning: ") for line in lines)


def test_the_vscode_task_reads_a_spec_error_of_generate(cli: Cli, project: Path) -> None:
    spec = project / "apexgen.toml"
    spec.write_text(spec.read_text().replace("\nsystem = ", "\nsytem = ", 1))
    line = cli("generate", cwd=project).stderr.strip()
    match = problem_matchers(project)["apexgen: generate"].match(line)
    assert match and match[1] == "apexgen.toml" and spec.read_text().splitlines()[int(match[2]) - 1].startswith("sytem")


def test_sarif_is_one_document_with_a_result_per_finding(cli: Cli, project: Path) -> None:
    cli("generate", cwd=project)
    (project / CLASSES / "Broken.cls-meta.xml").write_text("<ApexClass")
    text_lines = cli("check", cwd=project).stdout.splitlines()
    result = cli("check", "--format", "sarif", cwd=project)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert len(run["results"]) == len(text_lines)
    for sarif_result in run["results"]:
        assert sarif_result["level"] in ("error", "warning", "note")
        assert rules[sarif_result["ruleIndex"]] == sarif_result["ruleId"]
        region = sarif_result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert any(r["level"] == "error" and r["ruleId"] == "xsd/not-well-formed" for r in run["results"])


def existing_sfdx_project(root: Path, version: str) -> Path:
    """A project as `sf project generate` makes it: sfdx-project.json, a .prettierrc of its own, no apexgen."""
    (root / "force-app/main/default/classes").mkdir(parents=True)
    (root / "sfdx-project.json").write_text(
        json.dumps(
            {
                "packageDirectories": [{"path": "force-app", "default": True}],
                "name": "existing",
                "namespace": "",
                "sfdcLoginUrl": "https://login.salesforce.com",
                "sourceApiVersion": version,
            },
            indent=2,
        )
    )
    (root / ".prettierrc").write_text('{"trailingComma": "none"}\n')
    return root


def test_init_existing_adds_the_spec_with_the_project_s_api_version(cli: Cli, tmp_path: Path) -> None:
    root = existing_sfdx_project(tmp_path / "existing", "62.0")
    result = cli("init", "--existing", "--json", cwd=root / "force-app")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)["result"]
    assert ".prettierrc" in document["kept"] and "apexgen.toml" in document["created"]
    assert (root / ".prettierrc").read_text() == '{"trailingComma": "none"}\n'
    assert 'api_version = "62.0"' in (root / "apexgen.toml").read_text()
    assert cli("generate", cwd=root).exit_code == 0
    check = cli("check", "--json", cwd=root)
    findings = json.loads(check.stdout)["result"]["findings"]
    assert [f for f in findings if f["rule"] == "api-version"] == []
    again = cli("init", "--existing", cwd=root)
    assert again.exit_code == 2 and "exists already" in again.stderr


def test_init_existing_needs_an_sfdx_project(cli: Cli, tmp_path: Path) -> None:
    result = cli("init", "--existing", str(tmp_path))
    assert result.exit_code == 2 and "has no sfdx-project.json" in result.stderr


def test_a_spec_of_another_api_version_gives_one_note_not_one_per_file(cli: Cli, tmp_path: Path) -> None:
    root = existing_sfdx_project(tmp_path / "existing", "62.0")
    cli("init", "--existing", cwd=root)
    spec = root / "apexgen.toml"
    spec.write_text(spec.read_text().replace('api_version = "62.0"', 'api_version = "65.0"'))
    cli("generate", cwd=root)
    notes = [line for line in cli("check", cwd=root).stdout.splitlines() if "api-version" in line]
    assert len(notes) == 2, notes  # the spec's key, and one for the generated files
    assert notes[0].startswith("apexgen.toml:") and "files (the first here) have API version 65.0" in notes[1]
