"""The standard-field table: its sources, its API version, and entries every check can rely on."""

from __future__ import annotations

from apexgen.spec import standard_fields
from apexgen.spec.standard_fields import FieldInfo, standard_field


def test_the_table_names_its_sources_and_api_version():
    assert standard_fields.api_version() == "65.0"
    assert set(standard_fields.sources()) == {
        "type_and_length",
        "createable_updateable_calculated",
        "picklistValues",
        "permissionable",
        "not_permissionable_on_every_object",
    }
    assert all("https://developer.salesforce.com/" in source for source in list(standard_fields.sources().values())[:2])
    assert standard_fields.standard_objects() == ["Account", "Case", "Contact", "Lead", "Opportunity"]


def test_every_text_and_picklist_field_has_a_length():
    for obj in standard_fields.standard_objects():
        for name in standard_fields._table()["objects"][obj]:
            info = standard_field(obj, name)
            assert info is not None
            if info.type in ("string", "textarea", "picklist", "email", "phone", "url"):
                assert info.length, info.qualified


def test_lookups_ignore_case_and_return_the_api_spelling():
    assert standard_field("case", "casenumber") == FieldInfo(
        object="Case",
        name="CaseNumber",
        type="string",
        length=30,
        createable=False,
        updateable=False,
        permissionable=False,
    )
    assert standard_field("Case", "Nope__c") is None
    assert standard_field("Ticket__c", "Name") is None
    assert standard_field("Case", "Priority").picklist_values == ("High", "Medium", "Low")
    assert standard_field("Case", "Type").picklist_values is None


def test_whether_a_permission_set_can_grant_a_field_is_the_table_s_fact():
    # an auto-number, a required field, a system field: no field-level security
    assert standard_fields.permissionable("Case", "CaseNumber") is False
    assert standard_fields.permissionable("Opportunity", "StageName") is False  # required
    assert standard_fields.permissionable("case", "subject") is True
    # the fields of every object, on an object the table does not list; custom and unlisted fields are not known
    assert standard_fields.permissionable("Ticket__c", "Name") is False
    assert standard_fields.permissionable("Asset", "SystemModstamp") is False
    assert standard_fields.permissionable("Ticket__c", "Name__c") is None
    assert standard_fields.permissionable("Case", "AssetId") is None


def test_every_entry_says_whether_it_is_permissionable_and_agrees_with_the_every_object_list():
    every_object = {name.lower() for name in standard_fields._table()["not_permissionable_on_every_object"]}
    for obj in standard_fields.standard_objects():
        for name, entry in standard_fields._table()["objects"][obj].items():
            assert isinstance(entry["permissionable"], bool), f"{obj}.{name}"
            if name.lower() in every_object:
                assert entry["permissionable"] is False, f"{obj}.{name}"
