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


@pytest.mark.tools
def test_the_project_of_such_a_spec_passes_the_deep_check(project, cli) -> None:
    write_spec(project, NOT_PERMISSIONABLE)
    assert cli("generate", cwd=project).exit_code == 0
    (path,) = project.rglob(f"*{PERMISSION_SET}")
    assert "Case.CaseNumber" not in path.read_text("utf-8") and "Lead.Company" not in path.read_text("utf-8")

    result = cli("check", "--deep", "--json", "--project-dir", str(project))

    assert result.exit_code == ExitCode.OK, result.output
    findings = json.loads(result.output)["result"]["findings"]
    assert [f for f in findings if f["tool"] == "permission-set" or f["severity"] == "error"] == []
