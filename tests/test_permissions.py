"""The permission set every project gets: class access to the generated Flow actions and component controllers,
valid under the Metadata API's XSD."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from apexgen.errors import ExitCode
from apexgen.generate.plan import render_plan
from apexgen.spec.load import load_spec, parse_spec
from apexgen.spec.standard_fields import permissionable
from tests.conftest import REPO, write_spec
from tests.fakes.org import metadata_schema
from tests.test_check_permission_sets import custom_field
from tests.test_golden import CASES
from tests.test_spec import HEADER

MD = "{http://soap.sforce.com/2006/04/metadata}"
PERMISSION_SET = ".permissionset-meta.xml"


def permission_sets(spec_path) -> dict[str, bytes]:
    return {
        f.path: f.content.encode()
        for f in render_plan(load_spec(spec_path))
        if f.path.endswith(".permissionset-meta.xml")
    }


def test_a_managed_package_ships_one_permission_set_granting_its_entry_points() -> None:
    found = permission_sets(CASES / "namespaced" / "apexgen.toml")
    assert list(found) == ["force-app/main/default/permissionsets/AcmeModelsAccess.permissionset-meta.xml"]
    document = etree.fromstring(next(iter(found.values())))
    schema = metadata_schema("PermissionSet")
    assert schema.validate(document), schema.error_log
    granted = [
        (access.findtext(f"{MD}apexClass"), access.findtext(f"{MD}enabled"))
        for access in document.findall(f"{MD}classAccesses")
    ]
    assert granted == [
        ("RateAction", "true"),
        ("RateController", "true"),
        ("SimilarAction", "true"),
        ("SimilarController", "true"),
        ("SummarizeAction", "true"),
        ("SummarizeController", "true"),
    ]
    assert document.findtext(f"{MD}label") == "Acme Models API Access"


def test_an_unpackaged_project_gets_it_too_and_services_are_never_granted() -> None:
    found = permission_sets(REPO / "apexgen.toml")
    assert len(found) == 1
    classes = etree.fromstring(next(iter(found.values()))).findall(f"{MD}classAccesses/{MD}apexClass")
    # the run log's retry action is an entry point too, and an index's Flow action (its indexer)
    entry_points = ("Action", "Controller", "ModelRunRetry", "Indexer")
    assert classes and not [c.text for c in classes if not c.text.endswith(entry_points)]


def test_whoever_saves_records_of_a_record_prompt_may_write_the_run_log() -> None:
    document = etree.fromstring(next(iter(permission_sets(CASES / "record-trigger" / "apexgen.toml").values())))
    schema = metadata_schema("PermissionSet")
    assert schema.validate(document), schema.error_log
    objects = {access.findtext(f"{MD}object"): access for access in document.findall(f"{MD}objectPermissions")}
    assert sorted(objects) == ["Case", "DeskModelRun__c"]  # the record prompt's object, and the run log
    run_log = objects["DeskModelRun__c"]
    assert [run_log.findtext(f"{MD}{flag}") for flag in ("allowCreate", "allowRead", "allowEdit", "allowDelete")] == [
        "true",
        "true",
        "true",
        "false",
    ]
    fields = {f.findtext(f"{MD}field") for f in document.findall(f"{MD}fieldPermissions")}
    assert {"DeskModelRun__c.Status__c", "DeskModelRun__c.Written__c", "DeskModelRun__c.TotalTokens__c"} <= fields
    assert "DeskModelRunRetry" in [c.text for c in document.findall(f"{MD}classAccesses/{MD}apexClass")]


def test_a_project_without_entry_points_has_no_permission_set() -> None:
    assert permission_sets(CASES / "service-only" / "apexgen.toml") == {}


# --- fields no permission set can grant --------------------------------------------------------------------------

# A component reads a case's number (an auto-number); a record-triggered Flow writes a lead's company (a required
# field). Neither field has field-level security: the permission set names neither, and still lets users read the
# case and edit the lead.
NOT_PERMISSIONABLE = (
    HEADER
    + """
[[prompt]]
name = "CaseNote"
capability = "generate"
model = "fast"
template = "Write a note on case {caseNumber}: {subject}"
inputs = [{ name = "caseNumber", required = true }, { name = "subject" }]
expose = ["lwc"]
record = { object = "Case", inputs = { caseNumber = "CaseNumber", subject = "Subject" } }

[[prompt]]
name = "NameLead"
capability = "generate"
model = "fast"
template = "Which of our accounts does this lead work for? {about}"
inputs = [{ name = "about", required = true }]
outputs = [{ name = "company", choices = ["Acme", "Globex"] }]
expose = ["flow"]
record = { object = "Lead", when = "created", inputs = { about = "Description" }, write = { company = "Company" } }
"""
)


def granted_fields_and_objects(document) -> tuple[dict[str, bool], dict[str, dict[str, str]]]:
    fields = {
        f.findtext(f"{MD}field"): f.findtext(f"{MD}editable") == "true"
        for f in document.iterfind(f"{MD}fieldPermissions")
    }
    objects = {
        o.findtext(f"{MD}object"): {flag.tag.removeprefix(MD): flag.text for flag in o}
        for o in document.iterfind(f"{MD}objectPermissions")
    }
    return fields, objects


def test_a_field_no_permission_set_can_grant_is_left_out_and_its_object_still_granted() -> None:
    (content,) = [f.content for f in render_plan(parse_spec(NOT_PERMISSIONABLE)) if f.path.endswith(PERMISSION_SET)]
    document = etree.fromstring(content.encode())
    schema = metadata_schema("PermissionSet")
    assert schema.validate(document), schema.error_log
    fields, objects = granted_fields_and_objects(document)

    # Before: Case.CaseNumber read, Lead.Company edit, both in fieldPermissions (the org cannot grant either)
    assert "Case.CaseNumber" not in fields and fields["Case.Subject"] is False
    assert "Lead.Company" not in fields and fields["Lead.Description"] is False
    assert objects["Case"]["allowRead"] == "true"
    assert objects["Lead"]["allowEdit"] == "true"  # the written field's edit access comes with the object's
    assert [f for f in fields if permissionable(*f.split(".")) is False] == []


def test_no_golden_project_grants_a_field_the_table_marks_not_permissionable() -> None:
    for spec_path in [REPO / "apexgen.toml", *sorted(CASES.glob("*/apexgen.toml"))]:
        for content in permission_sets(spec_path).values():
            fields, _ = granted_fields_and_objects(etree.fromstring(content))
            assert [f for f in fields if permissionable(*f.split(".")) is False] == [], spec_path.parent.name


# --- required fields of the project's own objects ---------------------------------------------------------------

# A hand-written custom object, a detail of Account: its master-detail field and a required code are read by a
# component; a record-triggered Flow reads its summary and writes a required priority.
TICKET_PROMPTS = (
    HEADER
    + """
[[prompt]]
name = "TicketNote"
capability = "generate"
model = "fast"
template = "Write a note on ticket {code} of account {account}"
inputs = [{ name = "code", required = true }, { name = "account" }]
expose = ["lwc"]
record = { object = "Ticket__c", inputs = { code = "Code__c", account = "Account__c" } }

[[prompt]]
name = "RankTicket"
capability = "generate"
model = "fast"
template = "How urgent is this ticket? {summary}"
inputs = [{ name = "summary", required = true }]
outputs = [{ name = "priority", choices = ["High", "Low"] }]
expose = ["flow"]
record = { object = "Ticket__c", when = "created", inputs = { summary = "Summary__c" }, write = { priority = "Priority__c" } }
"""
)


def with_ticket_object(project) -> None:
    """The project's own Ticket__c: a detail of Account with two required text fields and a long summary."""
    folder = project / "force-app/main/default/objects/Ticket__c"
    folder.mkdir(parents=True)
    (folder / "Ticket__c.object-meta.xml").write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <deploymentStatus>Deployed</deploymentStatus>
    <label>Ticket</label>
    <nameField>
        <label>Ticket Name</label>
        <type>Text</type>
    </nameField>
    <pluralLabel>Tickets</pluralLabel>
    <sharingModel>ControlledByParent</sharingModel>
</CustomObject>
""",
        "utf-8",
    )
    master_detail = """    <referenceTo>Account</referenceTo>
    <relationshipName>Tickets</relationshipName>
    <type>MasterDetail</type>
"""
    required_text = "    <length>20</length>\n    <required>true</required>\n    <type>Text</type>\n"
    custom_field(project, "Ticket__c", "Account__c", master_detail)
    custom_field(project, "Ticket__c", "Code__c", required_text)
    custom_field(project, "Ticket__c", "Priority__c", required_text)
    custom_field(project, "Ticket__c", "Summary__c", "    <length>32768</length>\n    <type>LongTextArea</type>\n")


def test_a_required_or_master_detail_field_of_the_project_s_own_object_is_left_out(project, cli) -> None:
    with_ticket_object(project)
    write_spec(project, TICKET_PROMPTS)

    result = cli("generate", cwd=project)

    assert result.exit_code == 0, result.output
    (path,) = project.rglob(f"*{PERMISSION_SET}")
    document = etree.fromstring(path.read_bytes())
    schema = metadata_schema("PermissionSet")
    assert schema.validate(document), schema.error_log
    fields, objects = granted_fields_and_objects(document)
    # Before: Ticket__c.Account__c and Code__c readable, Priority__c editable (the org refuses all three: "You
    # cannot deploy to a required field")
    assert {f: e for f, e in fields.items() if f.startswith("Ticket__c.")} == {"Ticket__c.Summary__c": False}
    # the fields come with the object: read for the component, edit for the written priority
    assert objects["Ticket__c"]["allowRead"] == "true" and objects["Ticket__c"]["allowEdit"] == "true"


@pytest.mark.tools
@pytest.mark.parametrize("spec", ["standard", "own object"])
def test_the_project_of_such_a_spec_passes_the_deep_check(project, cli, spec) -> None:
    if spec == "own object":
        with_ticket_object(project)
    write_spec(project, NOT_PERMISSIONABLE if spec == "standard" else TICKET_PROMPTS)
    assert cli("generate", cwd=project).exit_code == 0
    (path,) = project.rglob(f"*{PERMISSION_SET}")
    ungranted = ["Case.CaseNumber", "Lead.Company", "Ticket__c.Account__c", "Ticket__c.Code__c", "Ticket__c.Priority"]
    assert [field for field in ungranted if field in path.read_text("utf-8")] == []

    result = cli("check", "--deep", "--json", "--project-dir", str(project))

    assert result.exit_code == ExitCode.OK, result.output
    findings = json.loads(result.output)["result"]["findings"]
    assert [f for f in findings if f["tool"] == "permission-set" or f["severity"] == "error"] == []
