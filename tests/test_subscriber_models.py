"""Subscriber-chosen models: with [project] subscriber_models, each model alias is a record of <prefix>Model__mdt
shipped with the project (the spec's model its value and the default), editable by subscribers."""

from __future__ import annotations

import pytest
from lxml import etree

from apexgen.errors import SpecError
from apexgen.generate.plan import render_plan
from apexgen.spec.load import load_spec
from tests.conftest import write_spec
from tests.fakes.org import metadata_schema
from tests.test_golden import CASES

MD = "{http://soap.sforce.com/2006/04/metadata}"
CASE = CASES / "subscriber-models" / "apexgen.toml"
BASE = "force-app/main/default"


def files(spec_path) -> dict[str, str]:
    return {f.path: f.content for f in render_plan(load_spec(spec_path))}


def test_the_type_its_field_and_one_record_per_alias_are_valid_metadata() -> None:
    generated = files(CASE)
    documents = {
        "CustomObject": f"{BASE}/objects/AcmeModel__mdt/AcmeModel__mdt.object-meta.xml",
        "CustomField": f"{BASE}/objects/AcmeModel__mdt/fields/ModelName__c.field-meta.xml",
        "CustomMetadata": f"{BASE}/customMetadata/AcmeModel.fast.md-meta.xml",
    }
    for root_type, path in documents.items():
        schema = metadata_schema(root_type)
        assert schema.validate(etree.fromstring(generated[path].encode())), (path, schema.error_log)
    field = etree.fromstring(generated[documents["CustomField"]].encode())
    assert field.findtext(f"{MD}fieldManageability") == "SubscriberControlled"  # subscribers may edit the value
    records = {
        path.rsplit("/", 1)[1]: etree.fromstring(content.encode())
        for path, content in generated.items()
        if path.endswith(".md-meta.xml") and "/AcmeModel." in path
    }
    assert {name: r.findtext(f"{MD}values/{MD}value") for name, r in records.items()} == {
        "AcmeModel.fast.md-meta.xml": "sfdc_ai__DefaultGPT41Mini",
        "AcmeModel.vectors.md-meta.xml": "sfdc_ai__DefaultOpenAITextEmbeddingAda_002",
    }
    assert {r.findtext(f"{MD}protected") for r in records.values()} == {"false"}  # visible to subscribers
    visibility = etree.fromstring(generated[documents["CustomObject"]].encode()).findtext(f"{MD}visibility")
    assert visibility == "Public"


def test_the_models_class_reads_the_records_with_the_spec_model_as_default() -> None:
    generated = files(CASE)
    models = generated[f"{BASE}/classes/AcmeModels.cls"]
    assert "AcmeModel__mdt.getAll().values()" in models
    assert (
        "public static final String FAST = modelFor(\n        'fast',\n        'sfdc_ai__DefaultGPT41Mini'\n    );"
        in models
    )
    assert "return String.isBlank(chosen) ? defaultModel : chosen;" in models
    test = generated[f"{BASE}/classes/AcmeModelsTest.cls"]
    for method in (
        "everyAliasShipsWithItsRecord",
        "withoutARecordTheSpecModelIsUsed",
        "aBlankRecordFallsBackToTheSpecModel",
        "theSubscribersRecordOverridesTheSpecModel",
    ):
        assert f"static void {method}()" in test
    assert "Assert.areEqual(\n            'sfdc_ai__MyOwnConfiguredModel',\n            model," in test
    # services keep naming their model through the constants, which now resolve through the records
    assert "AcmeModels.FAST" in generated[f"{BASE}/classes/RecapService.cls"]


def test_without_the_key_models_are_constants_and_no_type_is_generated() -> None:
    """Off by default without a namespace (with one it is on unless the spec turns it off: test_global_surface)."""
    generated = files(CASES / "minimal" / "apexgen.toml")
    metadata = [path for path in generated if "/objects/" in path or "/customMetadata/" in path]
    assert metadata and all("GenModelSetting" in path for path in metadata)  # only the admin's controls
    assert "getAll" not in generated[f"{BASE}/classes/GenModels.cls"]


def test_an_alias_longer_than_a_record_name_is_refused(tmp_path) -> None:
    alias = "a" * 41
    spec = write_spec(
        tmp_path,
        CASE.read_text().replace("fast = ", f"{alias} = ").replace('model = "fast"', f'model = "{alias}"'),
    )
    with pytest.raises(SpecError) as refused:
        load_spec(spec)
    assert str(refused.value).endswith(f"models.{alias}: must be at most 40 characters with subscriber_models")


def test_subscriber_models_must_be_true_or_false(tmp_path) -> None:
    spec = write_spec(tmp_path, CASE.read_text().replace("subscriber_models = true", 'subscriber_models = "yes"'))
    with pytest.raises(SpecError) as refused:
        load_spec(spec)
    assert "project.subscriber_models" in str(refused.value)
