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


@pytest.mark.parametrize("line, key, rule", BAD_RECORDS + BAD_WRITES)
def test_bad_records_are_refused_naming_file_key_and_rule(project, cli, line, key, rule):
    write_spec(project, HEADER + PROMPT + line + "\n")

    result = cli("generate", cwd=project)

    assert result.exit_code == 2
    assert f"apexgen.toml: {key}: " in unplaced(result.output) and rule in unplaced(result.output), unplaced(
        result.output
    )
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not (project / "force-app/main/default/classes").exists()


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


def test_action_only_queues_records_and_one_job_writes_typed_fields_under_a_row_lock():
    files = generated(HEADER + PROMPT + RECORD)
    action, work = files["TriageAction.cls"], files["TriageRecordWork.cls"]
    compact = re.sub(r"\s+", " ", work)

    assert "Continuation" not in action and "System.enqueueJob" not in action
    assert "List<AiModelRun__c> runs = AiModelJob.enqueue('Triage', recordIds);" in action
    assert "public with sharing class TriageRecordWork implements AiModelWork" in work
    # typed: apex-ls checks the object and the fields offline
    assert "SELECT Id, Type, Comments FROM Case WHERE Id IN :recordIds WITH USER_MODE FOR UPDATE" in compact
    assert "outcome.values.put('Type', outcome.generation.outputs.get('category'));" in work
    assert "outcome.values.put('Comments', outcome.generation.text);" in work
    assert "new AiRecordWrites('unchanged');" in work
    job = files["AiModelJob.cls"]
    assert "'Triage' => new TriageRecordWork()" in job
    assert "System.attachFinalizer(finalizer);" in job
    assert job.index("System.attachFinalizer(finalizer);") < job.index("callModels(runs);")


def test_tests_save_records_from_the_test_data_factory():
    files = generated(HEADER + PROMPT + RECORD)

    for name in ("TriageActionTest.cls", "AiModelJobTest.cls", "TriageRecordWorkTest.cls", "TriageRecordBatchTest.cls"):
        assert "(Case) AiTestData.build(Case.SObjectType);" in files[name], name
        assert ".Subject = 'Sample Subject';" in files[name], name
    production = [content for name, content in files.items() if name.endswith(".cls") and not name.endswith("Test.cls")]
    assert not any("Test.isRunningTest" in content for content in production)


def test_the_test_data_factory_is_written_once_and_never_overwritten(project, cli):
    write_spec(project, HEADER + PROMPT + RECORD)
    factory = project / "force-app/main/default/classes/AiTestData.cls"

    first = cli("generate", cwd=project)
    adapted = factory.read_text("utf-8").replace(
        "return record;", "record.put('Origin', 'Web');\n        return record;"
    )
    factory.write_text(adapted, "utf-8")
    again = cli("generate", cwd=project)
    checked = cli("check", cwd=project)

    assert first.exit_code == 0 and again.exit_code == 0, again.output
    assert factory.read_text("utf-8") == adapted
    assert "AiTestData" not in (project / ".apexgen/manifest.json").read_text("utf-8")
    assert "AiTestData" not in checked.output


def test_a_prompt_without_record_has_no_record_flow_and_no_job():
    files = generated(HEADER + PROMPT + 'flows = ["autolaunched"]\n')

    assert "TriageRecordFlow.flow-meta.xml" not in files
    assert "AiModelJob.cls" not in files and "AiModelRun__c.object-meta.xml" not in files
    assert "recordId" not in files["TriageAction.cls"]
    # the admin's controls apply to every prompt that calls a model
    assert "AiModelSetting.Triage.md-meta.xml" in files
    assert "AiModelControls.admit(" in files["TriageService.cls"]


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
    assert "apexgen.toml: prompt[0].inputs[1].name: 'recordId' is the record a record prompt's action writes" in (
        unplaced(result.output)
    )


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


# --- an admin's controls and the run log, as metadata ------------------------------------------------------


def metadata_documents(spec_text: str) -> dict[str, etree._Element]:
    return {
        f.path.rsplit("/", 1)[1]: etree.fromstring(f.content.encode())
        for f in render_plan(parse_spec(spec_text))
        if f.path.endswith("-meta.xml") and any(part in f.path for part in ("/objects/", "/customMetadata/", "/report"))
    }


def test_settings_and_run_log_are_valid_metadata():
    from tests.test_subscriber_models import metadata_schema

    documents = metadata_documents(HEADER + PROMPT + RECORD)
    for name, root in documents.items():
        root_type = etree.QName(root).localname
        schema = metadata_schema(root_type)
        assert schema.validate(root), (name, schema.error_log)
    run_fields = {n.removesuffix(".field-meta.xml") for n in documents if n.endswith("__c.field-meta.xml")}
    assert {
        "Prompt__c",
        "RecordId__c",
        "Status__c",
        "Attempts__c",
        "Error__c",
        "ResponseCode__c",
        "GenerationId__c",
        "PromptTokens__c",
        "CompletionTokens__c",
        "TotalTokens__c",
        "Model__c",
        "CalledAt__c",
        "NextAttemptAt__c",
        "Snapshot__c",
        "Written__c",
    } <= run_fields
    status = documents["Status__c.field-meta.xml"]
    assert [v.text for v in status.iterfind(".//m:value/m:fullName", NS)] == [
        "Queued",
        "Retrying",
        "Succeeded",
        "Failed",
        "Skipped",
    ]
    report = documents["AiModelTokensPerPromptPerDay.report-meta.xml"]
    assert report.findtext("m:reportType", namespaces=NS) == "AiModelRuns__c"
    assert [g.findtext("m:field", namespaces=NS) for g in report.iterfind("m:groupingsDown", NS)] == [
        "AiModelRun__c.CalledAt__c",
        "AiModelRun__c.Prompt__c",
    ]
    assert report.findtext("m:groupingsDown/m:dateGranularity", namespaces=NS) == "Day"
    assert documents["AiModelRuns.reportType-meta.xml"].findtext("m:baseObject", namespaces=NS) == "AiModelRun__c"
    for name in ("Enabled__c", "RunOnRecords__c", "CallsPerHour__c", "MaxInputLength__c"):
        assert documents[f"{name}.field-meta.xml"].findtext("m:fieldManageability", namespaces=NS) == (
            "SubscriberControlled"
        )


@pytest.mark.parametrize("namespace, on_records", [("", "true"), ("acme", "false")])
def test_the_work_on_records_ships_off_in_a_managed_package(namespace, on_records):
    header = HEADER.replace('prefix = "Ai"', f'prefix = "Ai"\nnamespace = "{namespace}"')
    record = metadata_documents(header + PROMPT + RECORD)["AiModelSetting.Triage.md-meta.xml"]
    values = {
        v.findtext("m:field", namespaces=NS): v.findtext("m:value", namespaces=NS)
        for v in record.iterfind("m:values", NS)
    }

    assert values["RunOnRecords__c"] == on_records
    assert values["Enabled__c"] == "true"
    assert record.findtext("m:protected", namespaces=NS) == "false"  # a subscriber admin switches it on


def test_init_with_a_namespace_ships_the_work_on_records_off_and_its_test_shows_no_call_until_on(cli, tmp_path):
    root = tmp_path / "demo"
    assert cli("init", str(root), "--namespace", "acme").exit_code == 0
    assert cli("generate", cwd=root).exit_code == 0
    default = root / "force-app/main/default"

    setting = etree.parse(str(default / "customMetadata/AiModelSetting.TriageCase.md-meta.xml")).getroot()
    values = {
        v.findtext("m:field", namespaces=NS): v.findtext("m:value", namespaces=NS)
        for v in setting.iterfind("m:values", NS)
    }
    job_test = (default / "classes/AiModelJobTest.cls").read_text("utf-8")
    test = job_test[job_test.index("static void nothingIsQueuedWhileTheWorkOnRecordsIsOff()") :]
    test = test[: test.index("@IsTest")]

    assert values["RunOnRecords__c"] == "false"
    # the Apex test reads the settings as installed, queues a record, and finds no run and no call until on
    assert "AiModelControls.settings = AiModelSetting__mdt.getAll();" in test
    assert test.index("Assert.isTrue(stub.calledMethods.isEmpty(), 'Expected no call');") < test.index(
        "AiModelControls.settings.put(PROMPT, setting(true, null));"
    )
    assert "'Expected the call once switched on'" in test


@pytest.mark.parametrize("name", ["prompt_name", "queued", "writeToRecord"])
def test_names_the_record_work_uses_are_reserved(project, cli, name):
    write_spec(project, HEADER + PROMPT.replace('{ name = "detail" }', f'{{ name = "{name}" }}') + RECORD)

    result = cli("generate", cwd=project)

    assert result.exit_code == 2, result.output
    assert "prompt[0].inputs[1].name" in result.output


def test_the_job_test_asserts_each_case_the_issue_lists():
    """Compiled and analysed by the real tools in test_apex_proof (not run: no org): each case is one test method."""
    test = generated(HEADER + PROMPT + RECORD)["AiModelJobTest.cls"]
    compact = re.sub(r"\s+", " ", test)

    for method, asserted in {
        "budgetStopsByCountAndTheChainCarriesTheRest": "'Expected the next execution enqueued'",
        "budgetStopsByCalloutTime": "'Expected no call once the time is spent'",
        "rateLimitedCallIsRetriedLaterUpToTheAttemptCap": "NOW.addMinutes(2), run.NextAttemptAt__c",
        "finalizerIsAttachedForTheRunsBeforeTheFirstCall": "job.finalizer.runIds",
        "finalizerRecordsALimitExceptionOnTheRuns": "'Apex CPU time limit exceeded'",
        "switchedOffRunIsSkippedWithoutACall": "AiModelJob.SKIPPED, run.Status__c",
        "hourlyCapDelaysTheWork": "NOW.addMinutes(10), run.NextAttemptAt__c",
        "valueAPersonSetAfterTheSaveIsKept": "'Expected the value the person set'",
        "failedSaveIsLoggedOnTheRun": "'ENTITY_IS_DELETED'",
        "jobWritesTheAnswersAndLogsEachRun": "'Problem', written.Type",
    }.items():
        body = compact[compact.index(f"static void {method}()") :]
        body = body[: body.index("@IsTest")] if "@IsTest" in body else body
        assert asserted in body, method
    files = generated(HEADER + PROMPT + RECORD)
    assert "'x'.repeat(255), fitted" in re.sub(r"\s+", " ", files["AiRecordWritesTest.cls"])
    assert "static void batchQueuesTheRecordsWithoutASuccessfulRun()" in files["TriageRecordBatchTest.cls"]
