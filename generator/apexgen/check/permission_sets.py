"""Field permissions no permission set can hold, in the project's permission sets (hand-written or generated).

How sure each finding is (README, "Fields a permission set cannot grant"):
- a required or master-detail custom field the project defines: the org refuses the deploy ("You cannot deploy
  to a required field: <Object.Field>", as Gearset's and Zuora's deploy guides quote it; Salesforce's
  permission-set skill for agents says the same), and none of the 36 corpus projects, which deploy, grants one:
  a deploy blocker;
- a standard field the standard-field table marks not permissionable (Case.CaseNumber, Account.Name, audit
  fields, OwnerId): it has no field-level security, so the entry grants nothing, but what the org does with it
  is not documented, and a project that deploys grants one (trailheadapps/dreamhouse-lwc at 9f41bff grants
  Property__c.Name, a name field no describe marks permissionable): a rule finding, never a deploy blocker.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from apexgen.check.findings import BLOCKER, Finding, ProjectFiles
from apexgen.salesforce import METADATA_NAMESPACE
from apexgen.spec.standard_fields import permissionable, required_custom_field_file

PERMISSION_SET_SUFFIX = ".permissionset-meta.xml"
FIELD_SUFFIX = ".field-meta.xml"
GRANTS_NOTHING = "moderate"  # not documented as refused: a rule finding, not a deploy blocker


def check_permission_sets(project: ProjectFiles) -> list[Finding]:
    """A finding for each ``fieldPermissions`` entry of the project's permission sets that names a field no
    permission set can grant; XML that cannot be read is the metadata check's finding."""
    sets = project.files(lambda name: name.endswith(PERMISSION_SET_SUFFIX))
    if not sets:
        return []
    required = {
        f"{path.parent.parent.name}.{path.name.removesuffix(FIELD_SUFFIX)}".lower()
        for path in project.files(lambda name: name.endswith(FIELD_SUFFIX))
        if path.parent.name == "fields" and required_custom_field_file(path)
    }
    findings = []
    for path in sets:
        findings += _file_findings(project.relative(path), path, required)
    return findings


def _file_findings(file: str, path: Path, required: set[str]) -> list[Finding]:
    from lxml import etree

    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (etree.XMLSyntaxError, OSError):
        return []
    findings = []
    for element in root.iterfind(f"{{{METADATA_NAMESPACE}}}fieldPermissions/{{{METADATA_NAMESPACE}}}field"):
        qualified = (element.text or "").strip()
        obj, _, name = qualified.partition(".")
        line = cast(int, element.sourceline or 0)
        if qualified.lower() in required:
            message = (
                f"grants {qualified}, a required (or master-detail) field of the project: no permission set can "
                f"grant it, and the org refuses the deploy ('You cannot deploy to a required field: {qualified}'); "
                f"access to {obj} governs it: remove this entry"
            )
            findings.append(Finding(file, line, 0, BLOCKER, "permission-set", "required-field", message))
        elif name and permissionable(obj, name) is False:
            message = (
                f"grants {qualified}, which has no field-level security (not permissionable): access to {obj} "
                "governs it, so this entry grants nothing; whether the org refuses it is not documented (not a "
                "deploy blocker): remove it"
            )
            findings.append(Finding(file, line, 0, GRANTS_NOTHING, "permission-set", "not-permissionable", message))
    return findings
