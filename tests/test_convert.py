"""Source format -> metadata format, driven by the sf CLI's registry: checked against what sf itself wrote.

tests/convert_cases/<case>/project is a small SFDX project written for these tests; <case>/expected is the
output of `sf project convert source` 2.146.3 (SDR 12.37.2) on it (see tests/convert_cases/README.md). Each case
must come out file for file the same: XML byte for byte, static resource zips entry for entry.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from apexgen.convert import ConvertError, convert_project, deploy_zip
from apexgen.deploy.apex_tests import find_test_classes
from tests.fakes.org import write_sample_project

CASES = Path(__file__).parent / "convert_cases"
NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
# sf applies replacements on deploy (and on convert with SF_APPLY_REPLACEMENTS_ON_CONVERT=true): the values
# the "replacements" case was converted with.
REPLACEMENT_ENV = {
    "GADGET_HOST": "example.com",
    "GADGET_DEBUG": "DEBUG = false",
    "GADGET_MODE": "unused",
    "GADGET_VERSION_TEMPLATE": "v$1.5 ($$)",
}


def case_project(case: str, tmp_path: Path) -> Path:
    """A copy of the case's project, away from this repository (whose own .forceignore would apply to it, since
    sf looks for .forceignore in the folders above a package directory too)."""
    return Path(shutil.copytree(CASES / case / "project", tmp_path / case, symlinks=True))


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def zip_entries(data: bytes) -> list[tuple[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return [(info.filename, archive.read(info)) for info in archive.infolist()]


def assert_same_tree(ours: dict[str, bytes], expected: dict[str, bytes]) -> None:
    assert sorted(ours) == sorted(expected)
    for path, data in expected.items():
        if path.endswith(".resource") and data.startswith(b"PK"):
            assert zip_entries(ours[path]) == zip_entries(data), path
        else:
            assert ours[path] == data, path


@pytest.mark.parametrize("case", ["strategies", "digital_and_unignored", "merges_and_folders", "agent"])
def test_conversion_matches_what_sf_wrote(case: str, tmp_path: Path) -> None:
    conversion = convert_project(case_project(case, tmp_path))
    assert_same_tree(conversion.files(), tree(CASES / case / "expected"))


def test_replacements_are_applied_as_sf_applies_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in REPLACEMENT_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GADGET_STAGE", raising=False)
    conversion = convert_project(case_project("replacements", tmp_path), replacements=True)
    assert_same_tree(conversion.files(), tree(CASES / "replacements" / "expected"))


def test_a_plain_conversion_leaves_replacements_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GADGET_HOST", raising=False)
    project = case_project("replacements", tmp_path)
    files = convert_project(project).files()
    assert files["classes/Endpoint.cls"] == (project / "force-app/main/default/classes/Endpoint.cls").read_bytes()


def test_a_replacement_whose_variable_is_unset_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in REPLACEMENT_ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConvertError, match=r"replacements\[0\]: the environment variable GADGET_HOST"):
        convert_project(case_project("replacements", tmp_path), replacements=True)


def test_files_that_are_not_metadata_are_skipped_and_reported(tmp_path: Path) -> None:
    conversion = convert_project(case_project("strategies", tmp_path))
    assert conversion.skipped == ["extras/README.md", "extras/test/jest-mocks/lightning/navigation.js"]


def test_package_directories_can_be_chosen(tmp_path: Path) -> None:
    conversion = convert_project(case_project("strategies", tmp_path), ["extras"])
    assert conversion.members == {
        "ApexClass": ["ExtraTest"],
        "CustomField": ["Gadget__c.Colour__c"],
        "CustomLabel": ["Alpha_Label"],
        "CustomLabels": ["CustomLabels"],
        "CustomMetadata": ["Setting.Default"],
    }


# ---- bad input: one line naming the file and the rule ----


def project(tmp_path: Path, files: dict[str, str], config: dict[str, object] | None = None) -> Path:
    config = config or {"packageDirectories": [{"path": "force-app"}], "sourceApiVersion": "62.0"}
    (tmp_path / "sfdx-project.json").write_text(json.dumps(config))
    for path, text in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp_path


CLASS_META = f'<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass {NS}><apiVersion>62.0</apiVersion></ApexClass>\n'
FIELD = "force-app/main/default/objects/Gadget__c/fields/Size__c.field-meta.xml"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"force-app/main/default/classes/Odd.bogus-meta.xml": "<x/>"},
            "force-app/main/default/classes/Odd.bogus-meta.xml: no metadata type of the sf CLI's registry matches",
        ),
        (
            {"force-app/main/default/uiBundles/myApp/app.json": "{}"},
            "force-app/main/default/uiBundles/myApp: UIBundle files (registry adapter 'uiBundles') are not converted "
            "by apexgen yet",
        ),
        (
            {"force-app/main/default/classes/Lonely.cls": "public class Lonely {}"},
            "force-app/main/default/classes/Lonely.cls: has no Lonely.cls-meta.xml beside it",
        ),
        (
            {FIELD: f"<CustomField {NS}><fullName>Size__c</fullName><label>Size</label>"},
            f"{FIELD}: not well-formed XML at line 1: <CustomField> is never closed",
        ),
        (
            {FIELD: f"<CustomField {NS}><label>AT&T</label></CustomField>"},
            f"{FIELD}: not well-formed XML at line 1: an '&' that starts no character or XML entity reference",
        ),
        (
            {
                "force-app/main/default/staticresources/site.resource-meta.xml": f"<StaticResource {NS}><contentType>text/css</contentType></StaticResource>",
                "force-app/main/default/staticresources/site/app.css": "p {}",
            },
            "force-app/main/default/staticresources/site.resource-meta.xml: the resource is a folder, so its "
            "<contentType> must be an archive type",
        ),
    ],
)
def test_bad_files_are_named_with_the_rule(tmp_path: Path, files: dict[str, str], message: str) -> None:
    root = project(tmp_path, files)
    with pytest.raises(ConvertError) as error:
        convert_project(root)
    assert str(error.value).replace(str(root) + "/", "").startswith(message)


def test_a_later_package_directory_wins_as_in_sf_and_it_is_noted(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "force-app/a/classes/Twin.cls": "public class Twin { }",
            "force-app/a/classes/Twin.cls-meta.xml": CLASS_META,
            "extra/classes/Twin.cls": "public class Twin {}",
            "extra/classes/Twin.cls-meta.xml": CLASS_META,
        },
        {"packageDirectories": [{"path": "force-app"}, {"path": "extra"}]},
    )
    conversion = convert_project(root)
    assert conversion.files()["classes/Twin.cls"] == b"public class Twin {}"
    assert conversion.notes == [
        "classes/Twin.cls: extra/classes/Twin.cls and force-app/a/classes/Twin.cls both define it; "
        "extra/classes/Twin.cls is used, as sf uses the last one"
    ]


def test_identical_duplicates_are_accepted_as_sf_accepts_them(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "force-app/a/classes/Twin.cls": "public class Twin {}",
            "force-app/a/classes/Twin.cls-meta.xml": CLASS_META,
            "force-app/b/classes/Twin.cls": "public class Twin {}",
            "force-app/b/classes/Twin.cls-meta.xml": CLASS_META,
        },
    )
    assert convert_project(root).members == {"ApexClass": ["Twin"]}


@pytest.mark.parametrize(
    ("directories", "message"),
    [
        (["nowhere"], "nowhere: the package directory does not exist"),
        (["../outside"], "packageDirectories: the package directory '../outside' must not leave the project folder"),
        (["linked"], "packageDirectories: the package directory 'linked' leads outside the project folder"),
    ],
)
def test_package_directories_must_exist_inside_the_project(
    tmp_path: Path, directories: list[str], message: str
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", root / "linked")
    project(root, {}, {"packageDirectories": [{"path": d} for d in directories]})
    with pytest.raises(ConvertError, match=message):
        convert_project(root)


def test_a_registry_customisation_is_refused(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "force-app/main/default/classes/A.cls": "public class A {}",
            "force-app/main/default/classes/A.cls-meta.xml": CLASS_META,
        },
        {"packageDirectories": [{"path": "force-app"}], "registryPresets": ["decomposePermissionSetBeta2"]},
    )
    with pytest.raises(ConvertError, match="registryPresets changes the sf CLI's registry"):
        convert_project(root)


# ---- the deploy zip ----


def zip_names(zip_bytes: bytes) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist())


def test_the_deploy_zip_holds_what_sf_deploys_and_its_package_xml(tmp_path: Path) -> None:
    converted = deploy_zip(write_sample_project(tmp_path))
    assert converted.package_xml == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Package xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <types>\n        <members>FooService</members>\n        <members>FooServiceTest</members>\n"
        "        <name>ApexClass</name>\n    </types>\n"
        "    <types>\n        <members>Greeting_Flow</members>\n        <name>Flow</name>\n    </types>\n"
        "    <types>\n        <members>fooCard</members>\n        <name>LightningComponentBundle</name>\n    </types>\n"
        "    <version>63.0</version>\n</Package>\n"
    )
    # the LWC jest tests are left out by the project's .forceignore
    assert zip_names(converted.zip_bytes) == [
        "classes/FooService.cls",
        "classes/FooService.cls-meta.xml",
        "classes/FooServiceTest.cls",
        "classes/FooServiceTest.cls-meta.xml",
        "flows/Greeting_Flow.flow",
        "lwc/fooCard/fooCard.html",
        "lwc/fooCard/fooCard.js",
        "lwc/fooCard/fooCard.js-meta.xml",
        "package.xml",
    ]
    assert converted.source_paths["classes/FooService.cls"] == "force-app/main/default/classes/FooService.cls"


def test_deploy_limits_are_checked_before_anything_is_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_sample_project(tmp_path)
    monkeypatch.setattr("apexgen.convert.project.MAX_FILES", 8)
    with pytest.raises(ConvertError, match=r"the deploy would hold 9 files; the Metadata API takes at most 8"):
        deploy_zip(root)
    monkeypatch.setattr("apexgen.convert.project.MAX_FILES", 10_000)
    monkeypatch.setattr("apexgen.convert.project.MAX_ZIP_BYTES", 100)
    with pytest.raises(ConvertError, match=r"the deploy zip is 0\.0 MB; the Metadata API takes at most 0 MB"):
        deploy_zip(root)


def test_test_classes_are_found_by_their_class_annotation(tmp_path: Path) -> None:
    root = write_sample_project(tmp_path)
    classes = root / "force-app/main/default/classes"
    sources = {
        "SeeAllTest": "@isTest(SeeAllData=false)\npublic class SeeAllTest {}",
        "CommentedOut": "// @IsTest\npublic class CommentedOut {}",
        "BlockComment": "/* @IsTest */ public with sharing class BlockComment {}",
        "InnerOnly": "public class InnerOnly {\n    @IsTest static void notATestClass() {}\n}",
    }
    for name, text in sources.items():
        (classes / f"{name}.cls").write_text(text)
        (classes / f"{name}.cls-meta.xml").write_text(CLASS_META)
    assert find_test_classes(root, deploy_zip(root)) == ["FooServiceTest", "SeeAllTest"]


def test_a_digital_experience_file_outside_its_site_folder_is_named(tmp_path: Path) -> None:
    root = project(tmp_path, {"force-app/main/default/digitalExperiences/site/content.json": "{}"})
    with pytest.raises(
        ConvertError, match=r"default/digitalExperiences/site: not inside digitalExperiences/<type>/<site>/"
    ):
        convert_project(root)
