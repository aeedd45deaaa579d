"""The generated permission set is enough: what users need is derived here from the generated code itself (user-mode
DML and SOQL in Apex, record elements of the Flows users run, the fields components read with getRecord, the Flows
users run), and compared with what the permission set grants. Whatever later work generates (new objects, new
queries) is derived the same way, so a need the permission set misses fails this test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from apexgen.generate.plan import render_plan
from apexgen.generate.planned_file import PlannedFile
from apexgen.spec.load import load_spec
from tests.conftest import REPO
from tests.fakes.org import metadata_schema
from tests.test_global_surface import namespaced_reference_spec
from tests.test_golden import CASES

MD = "{http://soap.sforce.com/2006/04/metadata}"
SPECS = [REPO / "apexgen.toml", *sorted(CASES.glob("*/apexgen.toml"))]


class Need:
    def __init__(self) -> None:
        self.flows: set[str] = set()
        self.objects: dict[str, bool] = {}  # object -> edit needed
        self.fields: dict[str, bool] = {}  # Object.Field -> edit needed

    def add(self, obj: str, field: str | None, edit: bool) -> None:
        self.objects[obj] = self.objects.get(obj, False) or edit
        if field and field.lower() != "id":
            key = f"{obj}.{field}"
            self.fields[key] = self.fields.get(key, False) or edit


def _apex_need(source: str, need: Need) -> None:
    if re.search(r"^@IsTest", source, re.MULTILINE):
        return  # tests run as their own user
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", source, flags=re.DOTALL)
    dml = re.findall(r"Database\.(?:insert|update|upsert)\(\s*(\w+)\s*,[^;]*AccessLevel\.USER_MODE", code)
    dml += re.findall(r"\b(?:insert|update|upsert) as user (\w+)", code)
    for variable in dml:
        declared = re.search(rf"(?:List<(\w+)>|\b(\w+))\s+{variable}\s*[=;]", code)
        assert declared, f"the type of {variable} written in user mode"
        sobject = declared.group(1) or declared.group(2)
        need.add(sobject, None, True)
        for arguments in re.findall(rf"new {sobject}\(([^;]*?)\);", code):
            for field in re.findall(r"(\w+)\s*=", arguments):
                need.add(sobject, field, True)
        for field in re.findall(r"\.put\('(\w+)'", code):
            need.add(sobject, field, True)
    for select, sobject, rest in re.findall(r"\[\s*SELECT\s+(.*?)\s+FROM\s+(\w+)(.*?)\]", code, re.DOTALL | re.I):
        if "USER_MODE" in rest:
            for field in re.split(r"\s*,\s*", select.strip()):
                need.add(sobject, field, False)


def _flow_need(name: str, content: str, need: Need) -> None:
    document = etree.fromstring(content.encode())
    if document.find(f"{MD}start/{MD}triggerType") is not None:
        return  # record-triggered: system context
    need.flows.add(name)
    for lookup in document.iter(f"{MD}recordLookups"):
        sobject = lookup.findtext(f"{MD}object")
        for field in lookup.iterfind(f".//{MD}field"):
            need.add(sobject, field.text, False)
        for field in lookup.iterfind(f"{MD}queriedFields"):
            need.add(sobject, field.text, False)
    for kind in ("recordUpdates", "recordCreates"):
        for element in document.iter(f"{MD}{kind}"):
            sobject = element.findtext(f"{MD}object")
            for field in element.iterfind(f"{MD}inputAssignments/{MD}field"):
                need.add(sobject, field.text, True)


def _component_need(source: str, need: Need) -> None:
    if "getRecord" not in source:
        return
    imported = re.findall(r"from '@salesforce/schema/(\w+)\.(\w+)'", source)
    assert imported, "a component that reads a record names its fields with @salesforce/schema imports"
    for sobject, field in imported:
        need.add(sobject, field, False)


def need_of(planned: list[PlannedFile]) -> Need:
    need = Need()
    for file in planned:
        if file.path.endswith(".cls"):
            _apex_need(file.content, need)
        elif file.path.endswith(".flow-meta.xml"):
            _flow_need(Path(file.path).name.removesuffix(".flow-meta.xml"), file.content, need)
        elif re.search(r"/lwc/(\w+)/\1\.js$", file.path):
            _component_need(file.content, need)
    return need


def granted_by(planned: list[PlannedFile]) -> tuple[Need, set[str]]:
    """What the permission set grants (as a Need), and its classes."""
    files = [f for f in planned if f.path.endswith(".permissionset-meta.xml")]
    granted = Need()
    if not files:
        return granted, set()
    document = etree.fromstring(files[0].content.encode())
    schema = metadata_schema("PermissionSet")
    assert schema.validate(document), schema.error_log
    granted.flows = {f.findtext(f"{MD}flow") for f in document.iterfind(f"{MD}flowAccesses")}
    for access in document.iterfind(f"{MD}objectPermissions"):
        assert access.findtext(f"{MD}allowRead") == "true"
        granted.objects[access.findtext(f"{MD}object")] = access.findtext(f"{MD}allowEdit") == "true"
    for access in document.iterfind(f"{MD}fieldPermissions"):
        assert access.findtext(f"{MD}readable") == "true"
        granted.fields[access.findtext(f"{MD}field")] = access.findtext(f"{MD}editable") == "true"
    classes = {c.text for c in document.iterfind(f"{MD}classAccesses/{MD}apexClass")}
    return granted, classes


def assert_enough(planned: list[PlannedFile]) -> Need:
    need = need_of(planned)
    granted, _ = granted_by(planned)
    assert need.flows == granted.flows
    for what, needed, given in (("object", need.objects, granted.objects), ("field", need.fields, granted.fields)):
        missing = sorted(k for k, edit in needed.items() if k not in given or (edit and not given[k]))
        assert missing == [], f"{what} access the code needs and the permission set lacks"
    generated_objects = {m.group(1) for f in planned if (m := re.search(r"/objects/(\w+)/", f.path))}
    extra = sorted(k for k in granted.fields if k not in need.fields and k.split(".")[0] not in generated_objects)
    assert extra == [], "field access granted beyond what the code needs"
    return need


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.parent.name)
def test_the_permission_set_grants_what_the_generated_code_needs(spec_path: Path) -> None:
    assert_enough(render_plan(load_spec(spec_path)))


def test_the_reference_project_needs_flows_objects_and_fields_and_gets_them(tmp_path: Path) -> None:
    planned = render_plan(namespaced_reference_spec(tmp_path))
    need = assert_enough(planned)
    assert need.flows == {
        "CompareTextsFlow",
        "DraftReplyFlow",
        "SummarizeCaseFlow",
        "SummarizeCaseScreenFlow",
        "TriageCaseFlow",
    }
    assert need.objects == {"Case": True}
    assert need.fields == {"Case.Subject": False, "Case.Description": False, "Case.Type": True, "Case.Priority": True}


def test_a_screen_flow_that_reads_the_record_gets_read_access() -> None:
    planned = render_plan(load_spec(CASES / "record-trigger" / "apexgen.toml"))
    need = assert_enough(planned)
    assert need.fields["Case.Description"] is False  # the screen Flow's Get Record, user context
    assert need.fields["Case.Reason"] is True  # the Queueable's user-mode update


def test_the_derivation_catches_a_permission_set_that_grants_too_little() -> None:
    planned = render_plan(load_spec(REPO / "apexgen.toml"))
    trimmed = [
        PlannedFile(
            f.path,
            re.sub(
                r"<flowAccesses>\s*<enabled>true</enabled>\s*<flow>TriageCaseFlow</flow>\s*</flowAccesses>",
                "",
                f.content,
            ),
        )
        if f.path.endswith(".permissionset-meta.xml")
        else f
        for f in planned
    ]
    with pytest.raises(AssertionError):
        assert_enough(trimmed)
