"""Field permissions that grant nothing: a permission set (hand-written or generated) naming a standard field the
standard-field table marks not permissionable (Case.CaseNumber, Account.Name, audit fields, OwnerId).

Such a field has no field-level security (its describe), so access to its object governs it and the entry
grants nothing. Whether the org refuses it is not documented for standard fields, and a project that deploys
grants one (trailheadapps/dreamhouse-lwc at 9f41bff, on the corpus, grants Property__c.Name, a name field no
describe marks permissionable): a rule finding, never a deploy blocker (README, "Fields a permission set cannot
grant").
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from apexgen.check.findings import Finding, ProjectFiles
from apexgen.salesforce import METADATA_NAMESPACE
from apexgen.spec.standard_fields import permissionable

PERMISSION_SET_SUFFIX = ".permissionset-meta.xml"
GRANTS_NOTHING = "moderate"  # not documented as refused: a rule finding, not a deploy blocker


def check_permission_sets(project: ProjectFiles) -> list[Finding]:
    """A finding for each ``fieldPermissions`` entry of the project's permission sets that names a field the
    standard-field table marks not permissionable; XML that cannot be read is the metadata check's finding."""
    findings = []
    for path in project.files(lambda name: name.endswith(PERMISSION_SET_SUFFIX)):
        findings += _file_findings(project.relative(path), path)
    return findings


def _file_findings(file: str, path: Path) -> list[Finding]:
    from lxml import etree

    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (etree.XMLSyntaxError, OSError):
        return []
    findings = []
    for element in root.iterfind(f"{{{METADATA_NAMESPACE}}}fieldPermissions/{{{METADATA_NAMESPACE}}}field"):
        qualified = (element.text or "").strip()
        obj, _, name = qualified.partition(".")
        if name and permissionable(obj, name) is False:
            message = (
                f"grants {qualified}, which has no field-level security (not permissionable): access to {obj} "
                "governs it, so this entry grants nothing; whether the org refuses it is not documented (not a "
                "deploy blocker): remove it"
            )
            findings.append(
                Finding(
                    file,
                    cast(int, element.sourceline or 0),
                    0,
                    GRANTS_NOTHING,
                    "permission-set",
                    "not-permissionable",
                    message,
                )
            )
    return findings
