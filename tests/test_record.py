"""Record-triggered automation: the ``record`` key of a prompt and the Flow and Apex it generates."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from apexgen.generate.plan import render_plan
from apexgen.spec.load import parse_spec
from apexgen.spec.types import RecordTrigger
from tests.conftest import unplaced, write_spec
from tests.test_spec import HEADER

NS = {"m": "http://soap.sforce.com/2006/04/metadata"}
PROMPT = """
[[prompt]]
name = "Triage"
capability = "generate"
model = "fast"
template = "{subject} {detail}"
inputs = [{ name = "subject", required = true }, { name = "detail" }]
outputs = [{ name = "category", choices = ["Problem", "Question"] }]
"""
RECORD = (
    'record = { object = "Case", inputs = { subject = "Subject" }, write = { category = "Type", text = "Comments" } }\n'
)


def generated(spec: str) -> dict[str, str]:
    return {f.path.rsplit("/", 1)[1]: f.content for f in render_plan(parse_spec(spec))}


def test_record_is_read_with_its_defaults():
    (prompt,) = parse_spec(HEADER + PROMPT + RECORD).prompts

    assert prompt.record == RecordTrigger(
        object="Case",
        when="created",
        condition=None,
        inputs=(("subject", "Subject"),),
        write=(("category", "Type"), ("text", "Comments")),
    )
    assert prompt.record.trigger_type == "Create"


BAD_RECORDS = [
    (
        'record = { object = "Case", write = { text = "Comments" } }',
        "prompt[0].record.inputs",
        "required input 'subject'",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Subject", colour = "Color__c" }, write = { text = "X" } }',
        "prompt[0].record.inputs.colour",
        "not an input of this prompt (inputs: subject, detail)",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Subject" }, write = { mood = "X" } }',
        "prompt[0].record.write.mood",
        "not the answer or an output of this prompt (one of: text, category)",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Subject" }, write = { text = "Type", category = "type" } }',
        "prompt[0].record.write.category",
        "writes field type, which write.text writes too",
    ),
    (
        'record = { object = "Case", when = "updated", inputs = { subject = "Subject" }, write = { text = "X" } }',
        "prompt[0].record.condition",
        "is required when the Flow runs on updates",
    ),
    (
        'record = { object = "Case Record", inputs = { subject = "Subject" }, write = { text = "X" } }',
        "prompt[0].record.object",
        "not an object API name",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Sub ject" }, write = { text = "X" } }',
        "prompt[0].record.inputs.subject",
        "not a field API name",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Subject" }, write = { text = "Id" } }',
        "prompt[0].record.write.text",
        "not a field API name",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Subject" }, write = {} }',
        "prompt[0].record.write",
        "at least",
    ),
    (
        'expose = ["lwc"]\nrecord = { object = "Case", inputs = { subject = "Subject" }, write = { text = "X" } }',
        "prompt[0].record",
        "needs the prompt exposed to flow",
    ),
]


@pytest.mark.parametrize("line, key, rule", BAD_RECORDS)
def test_bad_records_are_refused_naming_file_key_and_rule(project, cli, line, key, rule):
    write_spec(project, HEADER + PROMPT + line + "\n")

    result = cli("generate", cwd=project)

    assert result.exit_code == 2
    assert f"apexgen.toml: {key}: " in unplaced(result.output) and rule in unplaced(result.output), unplaced(
        result.output
    )
    assert not (project / "force-app/main/default/flows").exists()


def test_custom_fields_are_checked_against_the_project_metadata(project, cli):
    write_spec(
        project,
        HEADER
        + PROMPT
        + 'record = { object = "Case", inputs = { subject = "Subject" }, write = { category = "Category__c" } }\n',
    )

    refused = cli("generate", cwd=project)
    fields = project / "force-app/main/default/objects/Case/fields"
    fields.mkdir(parents=True)
    (fields / "Category__c.field-meta.xml").write_text("<CustomField/>", "utf-8")
    accepted = cli("generate", cwd=project)

    assert refused.exit_code == 2
    assert (
        "apexgen.toml: prompt[0].record: custom field Case.Category__c is not in the project "
        "(objects/Case/fields/Category__c.field-meta.xml)"
    ) in refused.output
    assert accepted.exit_code == 0, accepted.output


def test_custom_objects_and_condition_fields_are_checked_too(project, cli):
    write_spec(
        project,
        HEADER
        + PROMPT
        + 'record = { object = "Ticket__c", inputs = { subject = "Name" }, write = { text = "Answer__c" } }\n',
    )
    missing_object = cli("generate", cwd=project)
    write_spec(
        project,
        HEADER
        + PROMPT
        + 'record = { object = "Case", when = "updated", condition = "{!$Record.Ready__c}", '
        + 'inputs = { subject = "Subject" }, write = { text = "Comments" } }\n',
    )
    missing_field = cli("generate", cwd=project)

    assert "prompt[0].record.object: custom object Ticket__c is not in the project" in missing_object.output
    assert "custom field Case.Ready__c is not in the project" in missing_field.output


def test_updates_run_the_flow_only_when_the_record_changes_to_meet_the_condition():
    spec = (
        HEADER
        + PROMPT
        + RECORD.replace(
            'object = "Case",',
            'object = "Case", when = "created_or_updated", condition = "ISBLANK(TEXT({!$Record.Type}))",',
        )
    )
    flow = etree.fromstring(generated(spec)["TriageRecordFlow.flow-meta.xml"].encode())
    start = flow.find("m:start", NS)

    assert start.findtext("m:recordTriggerType", namespaces=NS) == "CreateAndUpdate"
    assert start.findtext("m:filterFormula", namespaces=NS) == "ISBLANK(TEXT({!$Record.Type}))"
    # the Flow updates the record it runs on: without this it would run again on its own update
    assert start.findtext("m:doesRequireRecordChangedToMeetCriteria", namespaces=NS) == "true"


def test_action_continues_past_the_callout_limit_in_a_queueable_that_writes_typed_fields():
    action = generated(HEADER + PROMPT + RECORD)["TriageAction.cls"]
    compact = re.sub(r"\s+", " ", action)

    assert "public class Continuation implements Queueable, Database.AllowsCallouts" in action
    assert "} else if (request.recordId != null) { later.add(request);" in compact
    assert "System.enqueueJob(new Continuation(requests));" in action
    # typed: apex-ls checks the object and the fields offline, and the types of the values
    assert "return new Case( Id = recordId, Type = result.category, Comments = result.text );" in compact
    assert "Database.update(records, false, AccessLevel.USER_MODE);" in action


def test_flow_starting_test_saves_a_record_with_the_mapped_inputs():
    test = generated(HEADER + PROMPT + RECORD)["TriageActionTest.cls"]

    assert "Case record = new Case();" in test
    assert "record.Subject = 'Sample Subject';" in test
    assert "insert as user record;" in test
    assert "new TriageAction.Continuation(requests).execute(null);" in test
    assert "Assert.areEqual( 'Problem', written.Type," in re.sub(r"\s+", " ", test)


def test_a_prompt_without_record_has_no_record_flow_and_no_continuation():
    files = generated(HEADER + PROMPT + 'flows = ["autolaunched"]\n')

    assert "TriageRecordFlow.flow-meta.xml" not in files
    assert "Continuation" not in files["TriageAction.cls"]
    assert "recordId" not in files["TriageAction.cls"]


def test_multiline_is_only_for_text_inputs(project, cli):
    write_spec(
        project,
        HEADER + PROMPT.replace('{ name = "detail" }', '{ name = "detail", type = "Integer", multiline = true }'),
    )

    result = cli("generate", cwd=project)

    assert result.exit_code == 2
    assert "apexgen.toml: prompt[0].inputs[1].multiline: is only for String inputs (this one is Integer)" in unplaced(
        result.output
    )


def test_a_record_prompt_keeps_the_name_record_id_for_the_record(project, cli):
    text = HEADER + PROMPT.replace("detail", "recordId") + RECORD
    write_spec(project, text)

    result = cli("generate", cwd=project)

    assert result.exit_code == 2
    assert "apexgen.toml: prompt[0].record: needs the input name recordId" in unplaced(result.output)


# --- what a write may put into a field (standard fields from apexgen's table, custom ones from objects/) --------

BAD_WRITES = [
    (
        'record = { object = "Opportunity", inputs = { subject = "Name" }, write = { text = "NextStep" } }',
        "prompt[0].record.write.text",
        "writes free text (the answer text) into Opportunity.NextStep, a text field of 255 characters",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Description" }, write = { text = "CaseNumber" } }',
        "prompt[0].record.write.text",
        "writes Case.CaseNumber, which is read-only (the API cannot update it)",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Description" }, write = { text = "SuppliedName" } }',
        "prompt[0].record.write.text",
        "writes Case.SuppliedName, which is read-only (the API cannot update it, only set it when the record is "
        "created)",
    ),
    (
        'record = { object = "Opportunity", inputs = { subject = "Name" }, write = { text = "ExpectedRevenue" } }',
        "prompt[0].record.write.text",
        "writes Opportunity.ExpectedRevenue, a formula or roll-up field: it cannot be written",
    ),
    (
        'record = { object = "Opportunity", inputs = { subject = "Name" }, write = { category = "Amount" } }',
        "prompt[0].record.write.category",
        "writes output category (String) into Opportunity.Amount, a currency field that cannot hold it",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Description" }, write = { category = "Priority" } }',
        "prompt[0].record.write.category",
        "writes choices Problem, Question that the picklist Case.Priority does not have (its values: High, Medium, Low)",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Description" }, write = { text = "Type" } }',
        "prompt[0].record.write.text",
        "writes free text (the answer text) into Case.Type, a picklist, which takes only its values",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Description" }, write = { text = "description" } }',
        "prompt[0].record.write.text",
        "writes description, which the prompt also reads (inputs); add it to record.rewrite",
    ),
    (
        'record = { object = "Case", inputs = { subject = "Description" }, write = { text = "Comments" }, '
        'rewrite = ["Comments"] }',
        "prompt[0].record.rewrite[0]",
        "names Comments, which is not both read (inputs) and written (write)",
    ),
]


@pytest.mark.parametrize("line, key, rule", BAD_WRITES)
def test_writes_a_field_cannot_take_are_refused_naming_the_key_and_the_rule(project, cli, line, key, rule):
    write_spec(project, HEADER + PROMPT + line + "\n")

    result = cli("generate", cwd=project)

    assert result.exit_code == 2
    assert f"apexgen.toml: {key}: {rule}" in unplaced(result.output), unplaced(result.output)
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not (project / "force-app/main/default/classes").exists()


def test_rewrite_lets_the_answer_replace_a_field_the_prompt_reads():
    spec = (
        HEADER
        + PROMPT
        + 'record = { object = "Case", inputs = { subject = "Description" }, write = { text = "Description" }, '
        + 'rewrite = ["description"] }\n'
    )

    (prompt,) = parse_spec(spec).prompts

    assert prompt.record.rewrite == ("description",)
    assert prompt.record.overwrite == "unchanged"


def test_picklist_values_the_table_does_not_know_are_left_to_the_run_time_check():
    # Case.Type ships with different values in different editions: the table does not guess them
    spec = (
        HEADER
        + PROMPT
        + 'record = { object = "Case", inputs = { subject = "Subject" }, write = { category = "Type" } }\n'
    )

    (prompt,) = parse_spec(spec).prompts

    assert prompt.record.write == (("category", "Type"),)


CUSTOM_FIELDS = {
    "Formula__c": "<type>Text</type><formula>Subject</formula>",
    "Short__c": "<type>Text</type><length>255</length>",
    "Kind__c": (
        "<type>Picklist</type><valueSet><valueSetDefinition>"
        "<value><fullName>Problem</fullName></value><value><fullName>Other</fullName></value>"
        "</valueSetDefinition></valueSet>"
    ),
    "Score__c": "<type>Number</type><precision>3</precision><scale>0</scale>",
    "Notes__c": "<type>LongTextArea</type><length>32768</length>",
}


@pytest.mark.parametrize(
    "write, rule",
    [
        ('{ text = "Formula__c" }', "writes Case.Formula__c, a formula or roll-up field: it cannot be written"),
        ('{ text = "Short__c" }', "into Case.Short__c, a text field of 255 characters"),
        ('{ category = "Kind__c" }', "writes choices Question that the picklist Case.Kind__c does not have"),
        ('{ category = "Score__c" }', "into Case.Score__c, a double field that cannot hold it"),
        ('{ text = "Notes__c" }', None),
    ],
)
def test_custom_fields_written_are_checked_against_their_metadata(project, cli, write, rule):
    fields = project / "force-app/main/default/objects/Case/fields"
    fields.mkdir(parents=True)
    for name, body in CUSTOM_FIELDS.items():
        (fields / f"{name}.field-meta.xml").write_text(
            f'<CustomField xmlns="http://soap.sforce.com/2006/04/metadata"><fullName>{name}</fullName>{body}'
            "</CustomField>",
            "utf-8",
        )
    line = f'record = {{ object = "Case", inputs = {{ subject = "Subject" }}, write = {write} }}\n'
    write_spec(project, HEADER + PROMPT + line)

    result = cli("generate", cwd=project)

    if rule is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2
        assert rule in result.output, result.output
