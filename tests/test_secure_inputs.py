"""Issue 23, items 7 (platform namespaces) and 9: inputs that ended in exit 123 are one-line errors now.

Each case was run against main before the fix (scripts in the helper's note): every one ended in "internal
error ... RecursionError" / "OSError" / "FileNotFoundError" (exit 123), or, for the namespaces, was accepted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from apexgen.cli import main
from apexgen.errors import SpecError
from apexgen.models_api.client import read_conversation
from tests.test_secure_forceignore import write_project

DEEP_JSON = "[" * 100_000 + "]" * 100_000


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr


def one_line_error(code: int, stderr: str, *said: str) -> None:
    assert code == 2, stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    for text in said:
        assert text in stderr


def test_deeply_nested_sfdx_project_json(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    (root / "sfdx-project.json").write_text('{"packageDirectories": ' + DEEP_JSON + "}")
    one_line_error(*run("convert", "--project-dir", str(root), "--zip", str(tmp_path / "x.zip")), "nested too deeply")
    result = CliRunner().invoke(main, ["check", "--project-dir", str(root)])
    assert result.exit_code == 1
    assert "sfdx-project.json:1:1 error sfdx-schema json not valid JSON: nested too deeply to be read" in result.stdout


@pytest.mark.parametrize("record", ["manifest.json", "journal.json"])
def test_deeply_nested_manifest_or_journal(tmp_path: Path, record: str) -> None:
    root = tmp_path / "project"
    assert run("init", str(root))[0] == 0
    (root / ".apexgen").mkdir(exist_ok=True)
    (root / ".apexgen" / record).write_text('{"version": 1, "files": ' + DEEP_JSON + "}")
    one_line_error(*run("generate", "--project-dir", str(root)), f".apexgen/{record}", "nested too deeply")


def test_a_deeply_nested_conversation_file() -> None:
    with pytest.raises(SpecError, match="history.json: is not valid JSON: nested too deeply"):
        read_conversation(DEEP_JSON, "history.json")


def test_xml_nested_5000_deep_in_a_decomposed_file(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    fields = root / "force-app/main/default/objects/Foo__c/fields"
    fields.mkdir(parents=True)
    (fields.parent / "Foo__c.object-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<label>Foo</label></CustomObject>\n"
    )
    (fields / "Bar__c.field-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">'
        + "<a>" * 5000
        + "x"
        + "</a>" * 5000
        + "</CustomField>\n"
    )
    one_line_error(
        *run("convert", "--project-dir", str(root), "--zip", str(tmp_path / "x.zip")),
        "Bar__c.field-meta.xml: not well-formed XML at line 2: elements nested deeper than 256 levels",
    )


@pytest.mark.parametrize("where", ["/proc/apexgen-project", "long"])
def test_init_where_no_project_can_be(tmp_path: Path, where: str) -> None:
    target = str(tmp_path / ("a" * 300)) if where == "long" else where
    one_line_error(*run("init", target), "cannot create the project there", "nothing was written")


@pytest.mark.parametrize("namespace", ["c", "schema", "flow", "lightning", "Test", "system"])
def test_platform_namespaces_are_refused(tmp_path: Path, namespace: str) -> None:
    one_line_error(
        *run("init", str(tmp_path / "p"), "--namespace", namespace),
        f"--namespace: '{namespace}' is a namespace of the platform itself",
    )
    assert not (tmp_path / "p").exists()
    root = tmp_path / "q"
    assert run("init", str(root))[0] == 0
    spec = root / "apexgen.toml"
    spec.write_text(spec.read_text().replace('namespace = ""', f'namespace = "{namespace}"', 1))
    one_line_error(*run("generate", "--project-dir", str(root)), "project.namespace", "namespace of the platform")


@pytest.mark.parametrize(
    "command",
    [
        ["check", "--severity-threshold", "high"],
        pytest.param(["deploy", "--instance-url", "https://127.0.0.1:9"], marks=pytest.mark.tools),
    ],
    ids=["check high", "deploy"],
)
def test_an_interrupted_generate_is_the_check_did_not_complete(tmp_path: Path, command: list[str]) -> None:
    """Item 6: the journal's "interrupted" finding had severity "warning", outside the severity table, so
    check --severity-threshold high and every deploy (it checks first, deep where the tools are) ended in
    exit 123. Now the check says it did not complete (exit 5); the deploy reports the finding and goes on
    to the org (here unreachable: exit 4)."""
    root = tmp_path / "project"
    assert run("init", str(root))[0] == 0
    assert run("generate", "--project-dir", str(root))[0] == 0
    (root / ".apexgen" / "journal.json").write_text('{"version": 1, "files": {}}', "utf-8")
    result = CliRunner().invoke(
        main, [*command, "--project-dir", str(root)], env={"SF_ACCESS_TOKEN": "t", "APEXGEN_NO_DAEMON": "1"}
    )
    assert result.exit_code == (5 if command[0] == "check" else 4), result.output
    assert "the last 'apexgen generate' did not finish" in result.output


@pytest.mark.parametrize(
    ("record", "said"),
    [
        (
            'object = "Case", inputs = { topic = "Subject" }, write = { text = "Descriptionn" }',
            "did you mean Description?",
        ),
        (
            'object = "Case", inputs = { topic = "Subject" }, write = { text = "CaseNumber" }',
            "CaseNumber, which is read-only",
        ),
        (
            'object = "Case", inputs = { topic = "Subject" }, write = { text = "CreatedDate" }',
            "CreatedDate, which is read-only",
        ),
        ('object = "Opportunity", inputs = { topic = "Name" }, write = { text = "Amount" }', "a currency field"),
        ('object = "Case", inputs = { topic = "Subject" }, write = { text = "IsEscalated" }', "a boolean field"),
    ],
    ids=["typo", "CaseNumber", "CreatedDate", "String to Currency", "text to checkbox"],
)
def test_record_writes_the_org_would_refuse_fail_check_and_generate(tmp_path: Path, record: str, said: str) -> None:
    """Item 8, with the standard-field table of issue 21: each of these passed the check (exit 0) before."""
    root = tmp_path / "project"
    assert run("init", str(root))[0] == 0
    spec = root / "apexgen.toml"
    spec.write_text(
        spec.read_text()
        + f'\n[[prompt]]\nname = "Writer"\ncapability = "generate"\nmodel = "fast"\ntemplate = "Say {{topic}}."\n'
        f'inputs = [{{ name = "topic" }}]\nexpose = ["flow"]\nrecord = {{ when = "created", {record} }}\n'
    )
    one_line_error(*run("generate", "--project-dir", str(root)), said)
    result = CliRunner().invoke(main, ["check", "--project-dir", str(root)])
    assert result.exit_code == 1 and said in result.stdout
