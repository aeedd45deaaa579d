"""The permission set every project gets: class access to the generated Flow actions and component controllers,
valid under the Metadata API's XSD."""

from __future__ import annotations

from lxml import etree

from apexgen.generate.plan import render_plan
from apexgen.spec.load import load_spec
from tests.conftest import REPO
from tests.fakes.org import metadata_schema
from tests.test_golden import CASES

MD = "{http://soap.sforce.com/2006/04/metadata}"


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
