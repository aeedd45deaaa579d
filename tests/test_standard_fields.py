"""The standard-field table: its sources, its API version, and entries every check can rely on."""

from __future__ import annotations

from apexgen.spec import standard_fields
from apexgen.spec.standard_fields import FieldInfo, standard_field


def test_the_table_names_its_sources_and_api_version():
    assert standard_fields.api_version() == "65.0"
    assert set(standard_fields.sources()) == {"type_and_length", "createable_updateable_calculated", "picklistValues"}
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
        object="Case", name="CaseNumber", type="string", length=30, createable=False, updateable=False
    )
    assert standard_field("Case", "Nope__c") is None
    assert standard_field("Ticket__c", "Name") is None
    assert standard_field("Case", "Priority").picklist_values == ("High", "Medium", "Low")
    assert standard_field("Case", "Type").picklist_values is None
