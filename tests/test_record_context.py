"""Record context without automation: ``record`` with ``inputs`` and no ``write``.

The record's fields fill the prompt's inputs in its component on a record page and in its screen Flow; no
record-triggered Flow, job, run log or work on records is generated. The golden case ``record-context`` carries
the generated files through the real tools (Apex proof, Jest, ESLint, the Flow XSD) in the full tier.
"""

from __future__ import annotations

import pytest
from lxml import etree

from apexgen.generate.plan import render_plan
from apexgen.spec.load import parse_spec
from tests.conftest import unplaced, write_spec
from tests.test_spec import HEADER

NS = {"m": "http://soap.sforce.com/2006/04/metadata"}
CHAT = """
[[prompt]]
name = "CaseChat"
capability = "chat"
model = "fast"
template = "Help with this case.\\nSubject: {subject}\\nDescription: {description}\\nQuestion: {question}"
inputs = [{ name = "subject", required = true }, { name = "description" }, { name = "question", required = true }]
"""
READS_CASE = 'record = { object = "Case", inputs = { subject = "Subject", description = "Description" } }\n'
ON_A_CASE_PAGE = 'expose = ["flow", "lwc"]\nflows = ["screen"]\n' + READS_CASE


def generated(spec: str) -> dict[str, str]:
    return {f.path.rsplit("/", 1)[1]: f.content for f in render_plan(parse_spec(spec))}


def test_a_chat_prompt_reads_its_case_without_a_trigger(project, cli):
    write_spec(project, HEADER + CHAT + ON_A_CASE_PAGE)

    result = cli("generate", cwd=project)

    # Before: "apexgen.toml:13:1: prompt[0].record.write: is required (prompt 'CaseChat')", exit 2
    assert result.exit_code == 0, result.output
    (prompt,) = parse_spec(HEADER + CHAT + ON_A_CASE_PAGE).prompts
    assert prompt.record is not None and prompt.record.write == () and not prompt.writes_record
    assert prompt.lwc_targets == ("record_page",)


def test_the_component_reads_the_page_s_record_through_the_ui_api():
    files = generated(HEADER + CHAT + ON_A_CASE_PAGE)
    script, meta = files["caseChat.js"], files["caseChat.js-meta.xml"]

    assert "@api recordId;" in script
    assert "@wire(getRecord, { recordId: '$recordId', optionalFields: RECORD_FIELDS })" in script
    assert "import CASE_SUBJECT_FIELD from '@salesforce/schema/Case.Subject';" in script
    assert "import CASE_DESCRIPTION_FIELD from '@salesforce/schema/Case.Description';" in script
    # the question is the user's: no field fills it
    assert "{ input: 'question'" not in script
    # a field the user may not read leaves its input empty, with a notice (the Jest suite shows it)
    assert "You cannot see ${unread.join(', ')} on this record" in script
    config = etree.fromstring(meta.encode()).find("m:targetConfigs/m:targetConfig", NS)
    assert config.get("targets") == "lightning__RecordPage"
    assert config.findtext("m:objects/m:object", namespaces=NS) == "Case"


def test_the_screen_flow_looks_the_record_up_and_starts_with_its_fields():
    flow = etree.fromstring(generated(HEADER + CHAT + ON_A_CASE_PAGE)["CaseChatScreenFlow.flow-meta.xml"].encode())

    lookup = flow.find("m:recordLookups", NS)
    assert flow.findtext("m:start/m:connector/m:targetReference", namespaces=NS) == "Get_Record"
    assert lookup.findtext("m:object", namespaces=NS) == "Case"
    assert lookup.findtext("m:filters/m:value/m:elementReference", namespaces=NS) == "recordId"
    assert lookup.findtext("m:faultConnector/m:targetReference", namespaces=NS) == "Record_Fault"
    assert [
        (a.findtext("m:field", namespaces=NS), a.findtext("m:assignToReference", namespaces=NS))
        for a in lookup.findall("m:outputAssignments", NS)
    ] == [("Subject", "Field_subject"), ("Description", "Field_description")]
    record_id = next(v for v in flow.findall("m:variables", NS) if v.findtext("m:name", namespaces=NS) == "recordId")
    assert record_id.findtext("m:isInput", namespaces=NS) == "true"
    # user context (no runInMode): the lookup enforces the user's object and field access
    assert flow.find("m:runInMode", NS) is None


def test_without_write_nothing_runs_on_saves_and_nothing_is_written():
    files = generated(HEADER + CHAT + ON_A_CASE_PAGE)

    assert "CaseChatRecordFlow.flow-meta.xml" not in files
    assert not [name for name in files if "RecordWork" in name or "RecordBatch" in name]
    assert "AiModelJob.cls" not in files and "AiModelRun__c.object-meta.xml" not in files
    assert "writeToRecord" not in files["CaseChatAction.cls"] and "recordId" not in files["CaseChatAction.cls"]
    assert "RunOnRecords__c" not in files["AiModelSetting.CaseChat.md-meta.xml"]
    # users get read access to the fields the prompt reads, and no edit
    permissions = etree.fromstring(files["AiModelsAccess.permissionset-meta.xml"].encode())
    granted = {
        p.findtext("m:field", namespaces=NS): (
            p.findtext("m:readable", namespaces=NS),
            p.findtext("m:editable", namespaces=NS),
        )
        for p in permissions.findall("m:fieldPermissions", NS)
    }
    assert granted == {"Case.Description": ("true", "false"), "Case.Subject": ("true", "false")}


def test_a_prompt_exposed_to_lwc_only_needs_no_flow_action():
    spec = HEADER + CHAT.replace("chat", "generate", 1) + 'expose = ["lwc"]\n' + READS_CASE

    files = generated(spec)

    assert "@wire(getRecord" in files["caseChat.js"]
    assert "CaseChatAction.cls" not in files


BAD_CONTEXTS = [
    (
        'expose = ["flow", "lwc"]\nrecord = { object = "Case", when = "updated", inputs = { subject = "Subject" } }',
        "prompt[0].record.when",
        "is only for a record the answer is written to (add write)",
    ),
    (
        'expose = ["flow", "lwc"]\nrecord = { object = "Case", inputs = { subject = "Subject" }, overwrite = "always" }',
        "prompt[0].record.overwrite",
        "is only for a record the answer is written to (add write)",
    ),
    (
        'expose = ["flow", "lwc"]\nrecord = { object = "Case" }',
        "prompt[0].record.inputs",
        "must map at least one input to a field: without write, record only fills inputs from the record",
    ),
    (
        'expose = ["flow"]\nflows = ["autolaunched"]\n' + READS_CASE,
        "prompt[0].record",
        "this prompt has neither: expose it to lwc on a record_page",
    ),
    (
        'expose = ["lwc"]\nlwc_targets = ["app_page"]\n' + READS_CASE,
        "prompt[0].record",
        "this prompt has neither",
    ),
    (
        'expose = ["lwc"]\nrecord = { object = "Case", inputs = { subject = "Subjct" } }',
        "prompt[0].record.inputs.subject",
        "Case.Subjct is not a field of Case; did you mean Subject?",
    ),
]


@pytest.mark.parametrize(
    "lines, key, rule",
    BAD_CONTEXTS,
    ids=["when", "overwrite", "no-inputs", "no-surface", "app-page-only", "misspelt-field"],
)
def test_a_record_that_is_only_read_is_refused_where_it_would_do_nothing(project, cli, lines, key, rule):
    write_spec(project, HEADER + CHAT + lines + "\n")

    result = cli("generate", cwd=project)

    assert result.exit_code == 2
    assert f"apexgen.toml: {key}: " in unplaced(result.output) and rule in unplaced(result.output), result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not (project / "force-app/main/default/classes").exists()


def test_custom_fields_read_without_write_must_be_in_the_project(project, cli):
    write_spec(
        project,
        HEADER + CHAT + 'expose = ["lwc"]\nrecord = { object = "Case", inputs = { subject = "Summary__c" } }\n',
    )

    result = cli("generate", cwd=project)

    assert result.exit_code == 2
    assert "custom field Case.Summary__c is not in the project" in result.output
