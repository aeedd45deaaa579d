"""What the fake Dev Hub checks beyond the zips: the SOQL its packaging queries use, the build-org definition and
settings of a VersionInfo, and a version's number and ancestry.

Ancestry rules a real Dev Hub applies whatever the client checked (sf's "highest released" rule is the client's,
which --skip-ancestor-check lifts, so the fake does not apply it): a released version number gets no new build, an
ancestor is a released version of the same managed package, a new major.minor version is above its ancestor's, a patch keeps its ancestor's major.minor, and
an unlocked package has no ancestor. The wording of these refusals is the fake's own: the Dev Hub's exact
messages are not published.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from lxml import etree

CONDITION = re.compile(r"([\w.]+)\s*(!=|=)\s*('(?:[^'\\]|\\.)*'|-?\d+|true|false|null)", re.IGNORECASE)
EDITIONS = {
    "Developer",
    "Enterprise",
    "Group",
    "Partner Developer",
    "Partner Enterprise",
    "Partner Group",
    "Partner Professional",
    "Professional",
}


def _literal(text: str) -> Any:
    lowered = text.lower()
    if text.startswith("'"):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    return int(text)


def _value(record: dict, key: str) -> Any:
    head, _, rest = key.partition(".")
    value = record.get(head)
    return (value or {}).get(rest) if rest else value


def select_rows(records: list[dict], soql: str) -> list[dict] | str:
    """The records a SOQL query of the packaging tables selects: conditions joined by AND (= and != against a
    string, number, true, false or null), ORDER BY fields with ASC/DESC, LIMIT. A string: what cannot be answered."""
    match = re.search(r"\bWHERE\s+(.*?)(?:\s+ORDER\s+BY\s+(.*?))?(?:\s+LIMIT\s+(\d+))?\s*$", soql, re.I | re.S)
    if match is None:
        return f"fake org answers packaging queries with a WHERE clause: {soql}"
    where, order, limit = match.groups()
    conditions = []
    for part in re.split(r"\s+AND\s+", where, flags=re.I):
        condition = CONDITION.fullmatch(part.strip())
        if condition is None:
            return f"fake org cannot answer the condition {part!r}"
        key, operator, literal = condition.groups()
        conditions.append((key, operator, _literal(literal)))
    rows = [
        r for r in records if all((_value(r, key) == value) == (operator == "=") for key, operator, value in conditions)
    ]
    for term in reversed([t.strip() for t in (order or "").split(",") if t.strip()]):
        name, _, direction = term.partition(" ")
        rows.sort(key=lambda r, name=name: _value(r, name) or 0, reverse=direction.strip().lower() == "desc")
    return rows[: int(limit)] if limit else rows


def definition_problems(outer: zipfile.ZipFile, descriptor: dict, schema_for: Any, check_zip: Any) -> list[str]:
    """The build org of a VersionInfo: the definition file, the descriptor's copy of it, and settings.zip (each
    settings file valid under the Metadata XSD: ``schema_for(root type)``)."""
    names = set(outer.namelist())
    problems = []
    if "scratch-org-definition.json" in names:
        definition = json.loads(outer.read("scratch-org-definition.json"))
        if definition.get("edition") not in EDITIONS:
            problems.append(f"scratch-org-definition.json: edition {definition.get('edition')!r} is not an edition")
        for key in ("edition", "features"):
            if key in definition and descriptor.get(key) != definition[key]:
                problems.append(f"package2-descriptor.json: {key} is not the definition file's")
        if definition.get("settings") and "settings.zip" not in names:
            problems.append("the definition file has settings and VersionInfo has no settings.zip")
    elif "settings.zip" in names or "edition" in descriptor:
        problems.append("VersionInfo has build-org settings or an edition without scratch-org-definition.json")
    if "settings.zip" in names:
        settings = zipfile.ZipFile(io.BytesIO(outer.read("settings.zip")))
        members, zip_problems = check_zip(settings)
        problems += [f"settings.zip: {p}" for p in zip_problems]
        problems += [f"settings.zip: {m.type} {m.name} is not Settings" for m in members if m.type != "Settings"]
        for name in settings.namelist():
            if name.endswith(".settings"):
                document = etree.fromstring(settings.read(name))
                try:
                    schema = schema_for(etree.QName(document).localname)
                except etree.XMLSchemaParseError:
                    problems.append(f"settings.zip: {name}: {etree.QName(document).localname} is not a settings type")
                    continue
                if not schema.validate(document):
                    problems.append(f"settings.zip: {name}: {schema.error_log.last_error.message}")
    return problems


def ancestry_refusals(
    package: dict, versions: list[dict], descriptor: dict, version: tuple[int, int, int]
) -> list[str]:
    """Why the Dev Hub refuses the descriptor's ancestorId for a new ``version`` of ``package``."""
    numbered = [v for v in versions if v["Package2Id"] == package["Id"]]
    if any((v["MajorVersion"], v["MinorVersion"], v["PatchVersion"]) == version and v["IsReleased"] for v in numbered):
        return [f"Version {'.'.join(str(n) for n in version)} is already released; increment the version number."]
    ancestor_id = descriptor.get("ancestorId")
    if ancestor_id in (None, ""):
        return []
    if package["ContainerOptions"] == "Unlocked":
        return ["An unlocked package version cannot have an ancestor."]
    ancestor = next((v for v in versions if v["Id"] == ancestor_id), None)
    if ancestor is None or ancestor["Package2Id"] != package["Id"]:
        return [f"The ancestor {ancestor_id} is not a version of package {package['Id']}."]
    if not ancestor["IsReleased"]:
        return [f"The ancestor {ancestor_id} is not a released version."]
    ancestor_number = (ancestor["MajorVersion"], ancestor["MinorVersion"], ancestor["PatchVersion"])
    if version[2] != 0 and version[:2] != ancestor_number[:2]:
        return [
            f"A patch version keeps its ancestor's major and minor version ({ancestor_number[0]}.{ancestor_number[1]})."
        ]
    if version[2] == 0 and version[:2] <= ancestor_number[:2]:
        return [f"The version number must be higher than its ancestor's ({'.'.join(str(n) for n in ancestor_number)})."]
    return []
