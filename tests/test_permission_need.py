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
from apexgen.spec.standard_fields import permissionable
from tests.conftest import REPO
from tests.fakes.org import metadata_schema
from tests.test_global_surface import namespaced_reference_spec
from tests.test_golden import CASES

MD = "{http://soap.sforce.com/2006/04/metadata}"
SPECS = [REPO / "apexgen.toml", *sorted(CASES.glob("*/apexgen.toml"))]


DML_ACCESS = {"insert": {"create"}, "update": {"edit"}, "upsert": {"create", "edit"}, "delete": {"delete"}}


class Need:
    def __init__(self) -> None:
        self.flows: set[str] = set()
        self.objects: dict[str, set[str]] = {}  # object -> read, create, edit, delete
        self.fields: dict[str, bool] = {}  # Object.Field -> edit needed
        self.metadata_types: set[str] = set()

    def add(self, obj: str, field: str | None, edit: bool, access: frozenset[str] = frozenset()) -> None:
        if obj.endswith("__mdt"):
            self.metadata_types.add(obj)
            return
        self.objects.setdefault(obj, {"read"}).update(access | ({"edit"} if edit else set()))
        if field and permissionable(obj, field) is not False:  # no field-level security: never granted
            key = f"{obj}.{field}"
            self.fields[key] = self.fields.get(key, False) or edit


def _apex_need(source: str, need: Need) -> None:
    if re.search(r"^@IsTest", source, re.MULTILINE):
        return  # tests run as their own user
    if re.search(r"\bimplements\b[^{]*\bSchedulable\b", source):
        return  # runs as the admin who scheduled it, not as the permission set's users
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", source, flags=re.DOTALL)
    dml = re.findall(r"Database\.(insert|update|upsert|delete)\(\s*(\w+)\s*,[^;]*?AccessLevel\.USER_MODE", code)
    dml += re.findall(r"\b(insert|update|upsert|delete) as user (\w+)", code)
    for kind, variable in dml:
        declared = re.search(rf"(?:List<(\w+)>|Map<Id, (\w+)>|\b(\w+))\s+{variable}\s*[=;]", code)
        assert declared, f"the type of {variable} written in user mode"
        sobject = next(group for group in declared.groups() if group)
        if sobject == "SObject":
            # A generic write (the job's record writes): its object and fields are those the same work reads
            # WITH USER_MODE first, and the spec's record write fields; the static type says nothing more.
            continue
        need.add(sobject, None, False, frozenset(DML_ACCESS[kind]))
        for arguments in re.findall(rf"new {sobject}\(([^;]*?)\);", code):
            for field in re.findall(r"(\w+)\s*=", arguments):
                need.add(sobject, field, kind != "delete")
    for select, sobject, rest in re.findall(r"\[\s*SELECT\s+(.*?)\s+FROM\s+(\w+)(.*?)\]", code, re.DOTALL | re.I):
        if "USER_MODE" in rest:
            if select.strip() == "Id" and re.search(r"\bWHERE\s+Id\s+IN\b", rest):
                # which of these records the user can read (a search's results): a filter by the user's own
                # access, which a permission set must not widen
                continue
            fields = re.split(r"\s*,\s*", select.strip())
            fields += re.findall(r"\b(\w+)\s*(?:=|!=|<=|>=|<|>|\bIN\b|\bLIKE\b)", rest.split("WITH USER_MODE")[0])
            for field in fields:
                if re.fullmatch(r"\w+", field) and field.upper() not in ("WHERE", "AND", "OR", "NOT"):
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
        granted.objects[access.findtext(f"{MD}object")] = {
            name
            for name in ("read", "create", "edit", "delete")
            if access.findtext(f"{MD}allow{name.title()}") == "true"
        }
    granted.metadata_types = {t.findtext(f"{MD}name") for t in document.iterfind(f"{MD}customMetadataTypeAccesses")}
    for access in document.iterfind(f"{MD}fieldPermissions"):
        assert access.findtext(f"{MD}readable") == "true"
        granted.fields[access.findtext(f"{MD}field")] = access.findtext(f"{MD}editable") == "true"
    classes = {c.text for c in document.iterfind(f"{MD}classAccesses/{MD}apexClass")}
    return granted, classes


def assert_enough(planned: list[PlannedFile]) -> Need:
    need = need_of(planned)
    granted, _ = granted_by(planned)
    assert need.flows == granted.flows
    assert need.metadata_types <= granted.metadata_types, "custom metadata types read in user mode"
    missing = sorted(
        f"{k}: {access - granted.objects.get(k, set())}"
        for k, access in need.objects.items()
        if not access <= granted.objects.get(k, set())
    )
    assert missing == [], "object access the code needs and the permission set lacks"
    # a required field (a master-detail one is) is always readable, and no permission set can grant it
    always_readable = {
        f"{m.group(1)}.{m.group(2)}"
        for f in planned
        if (m := re.search(r"/objects/(\w+)/fields/(\w+)\.field-meta\.xml$", f.path))
        and re.search(r"<required>true</required>|<type>MasterDetail</type>", f.content)
    }
    missing = sorted(
        k
        for k, edit in need.fields.items()
        if k not in always_readable and (k not in granted.fields or (edit and not granted.fields[k]))
    )
    assert missing == [], "field access the code needs and the permission set lacks"
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
    assert need.objects["Case"] >= {"read"}
    assert {"Case.Subject", "Case.Description", "Case.Type", "Case.Priority"} <= set(need.fields)
    assert need.objects["AiModelRun__c"] == {"read", "create", "edit"}  # the job's run log: users never delete it
    # The job writes the answer through a generic SObject update in user mode: the spec's write fields are editable.
    granted, _ = granted_by(planned)
    assert "edit" in granted.objects["Case"] and granted.fields["Case.Type"] and granted.fields["Case.Priority"]


def test_a_screen_flow_that_reads_the_record_gets_read_access() -> None:
    planned = render_plan(load_spec(CASES / "record-trigger" / "apexgen.toml"))
    need = assert_enough(planned)
    assert need.fields["Case.Description"] is False  # the screen Flow's Get Record, user context
    assert "Case.Reason" in need.fields  # read by the job before its user-mode write


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
