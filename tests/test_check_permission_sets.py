"""``apexgen check`` on permission sets: an entry naming a required or master-detail custom field of the project
is a deploy blocker (the org refuses it: "You cannot deploy to a required field"); one naming a standard field the
standard-field table marks not permissionable is a rule finding at its line, never a deploy blocker, since what the
org does with it is not documented (README, "Fields a permission set cannot grant")."""

from __future__ import annotations

import shutil
from pathlib import Path

from apexgen.check.findings import BLOCKER, check_exit_code, summarize
from apexgen.check.runner import run_checks
from apexgen.errors import ExitCode
from tests.check_cases.projects import CASES


def permission_set(*fields: str) -> str:
    entries = "".join(
        f"""    <fieldPermissions>
        <editable>false</editable>
        <field>{field}</field>
        <readable>true</readable>
    </fieldPermissions>
"""
        for field in fields
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
{entries}    <hasActivationRequired>false</hasActivationRequired>
    <label>Support</label>
</PermissionSet>
"""


FILE = "force-app/main/default/permissionsets/Support.permissionset-meta.xml"


def with_permission_set(tmp_path: Path, content: str) -> Path:
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    (root / FILE).parent.mkdir(parents=True)
    (root / FILE).write_text(content, "utf-8")
    return root


def test_a_hand_written_grant_of_a_field_without_field_level_security_is_found_at_its_line(tmp_path):
    root = with_permission_set(
        tmp_path,
        permission_set(
            "Case.CaseNumber", "Case.Subject", "Opportunity.StageName", "Ticket__c.Name", "Ticket__c.Summary__c"
        ),
    )

    findings = [f for f in run_checks(root) if f.tool == "permission-set"]

    # Before: no finding at all; the deploy was left to find out
    assert [(f.file, f.line, f.severity, f.rule) for f in findings] == [
        (FILE, 5, "moderate", "not-permissionable"),  # an auto-number
        (FILE, 15, "moderate", "not-permissionable"),  # a required field
        (FILE, 20, "moderate", "not-permissionable"),  # the name field every object has
    ]
    assert "Case.CaseNumber, which has no field-level security" in findings[0].message
    assert "not a deploy blocker" in findings[0].message
    # Whether the org refuses it is not documented: the check does not fail on it by default
    assert not [f for f in findings if f.severity == BLOCKER]
    assert check_exit_code(summarize(run_checks(root))) == ExitCode.OK


def test_a_permission_set_granting_only_permissionable_fields_has_no_finding(tmp_path):
    root = with_permission_set(tmp_path, permission_set("Case.Subject", "Ticket__c.Summary__c", "Case.AssetId"))

    assert [f for f in run_checks(root) if f.tool == "permission-set"] == []


def custom_field(root: Path, obj: str, name: str, body: str) -> None:
    path = root / f"force-app/main/default/objects/{obj}/fields/{name}.field-meta.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>{name}</fullName>
    <label>{name.removesuffix("__c")}</label>
{body}</CustomField>
""",
        "utf-8",
    )


def test_a_grant_of_a_required_or_master_detail_field_of_the_project_is_a_deploy_blocker(tmp_path):
    root = with_permission_set(
        tmp_path, permission_set("Ticket__c.Account__c", "Ticket__c.Code__c", "Ticket__c.Note__c")
    )
    master_detail = """    <referenceTo>Account</referenceTo>
    <relationshipName>Tickets</relationshipName>
    <type>MasterDetail</type>
"""
    custom_field(root, "Ticket__c", "Account__c", master_detail)
    custom_field(
        root, "Ticket__c", "Code__c", "    <length>20</length>\n    <required>true</required>\n    <type>Text</type>\n"
    )
    custom_field(
        root, "Ticket__c", "Note__c", "    <length>20</length>\n    <required>false</required>\n    <type>Text</type>\n"
    )

    findings = run_checks(root)

    # Before: no finding; the org refuses the deploy ("You cannot deploy to a required field")
    assert [(f.file, f.line, f.severity, f.rule) for f in findings if f.tool == "permission-set"] == [
        (FILE, 5, BLOCKER, "required-field"),
        (FILE, 10, BLOCKER, "required-field"),
    ]
    (code,) = [f for f in findings if f.rule == "required-field" and "Ticket__c.Code__c," in f.message]
    assert "'You cannot deploy to a required field: Ticket__c.Code__c'" in code.message
    assert [f for f in findings if f.severity == BLOCKER and f.tool != "permission-set"] == []
    assert check_exit_code(summarize(findings)) == ExitCode.FINDINGS
