"""Source format to Metadata API zip: every supported type, .forceignore, and no file ever dropped silently."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from apexgen.convert.converter import ConvertError, convert_project
from apexgen.errors import UsageError
from apexgen.salesforce import API_VERSION
from tests.fakes.org import check_zip, write_sample_project

META = '<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>63.0</apiVersion></{root}>\n'


def write(root: Path, path: str, text: str = "x") -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def zip_names(zip_bytes: bytes) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist())


def test_package_xml_is_written_as_the_sf_cli_writes_it(tmp_path: Path) -> None:
    converted = convert_project(write_sample_project(tmp_path))
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


def test_every_supported_type_converts_and_matches_its_package_xml(tmp_path: Path) -> None:
    """The members are those `sf project convert source` 2.146.3 lists for the same tree (checked by hand)."""
    root = write_sample_project(tmp_path)
    base = "force-app/main/default"
    write(root, f"{base}/triggers/AccountTrigger.trigger", "trigger AccountTrigger on Account (before insert) {}")
    write(root, f"{base}/triggers/AccountTrigger.trigger-meta.xml", META.format(root="ApexTrigger"))
    write(root, f"{base}/pages/Hello.page", "<apex:page/>")
    write(root, f"{base}/pages/Hello.page-meta.xml", META.format(root="ApexPage"))
    write(root, f"{base}/components/Banner.component", "<apex:component/>")
    write(root, f"{base}/components/Banner.component-meta.xml", META.format(root="ApexComponent"))
    write(root, f"{base}/staticresources/logo.png", "PNG")
    write(root, f"{base}/staticresources/logo.resource-meta.xml", META.format(root="StaticResource"))
    write(root, f"{base}/staticresources/bundle/app.js", "js")
    write(root, f"{base}/staticresources/bundle/css/app.css", "css")
    write(root, f"{base}/staticresources/bundle.resource-meta.xml", META.format(root="StaticResource"))
    write(root, f"{base}/permissionsets/Model_User.permissionset-meta.xml", META.format(root="PermissionSet"))
    write(root, f"{base}/customMetadata/Model_Setting.Default.md-meta.xml", META.format(root="CustomMetadata"))
    write(
        root,
        f"{base}/labels/CustomLabels.labels-meta.xml",
        '<?xml version="1.0" encoding="UTF-8"?>\n<CustomLabels xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<labels><fullName>Greeting</fullName></labels><labels><fullName>Farewell</fullName></labels></CustomLabels>",
    )
    write(root, f"{base}/aura/oldCard/oldCard.cmp", "<aura:component/>")
    write(root, f"{base}/aura/oldCard/oldCard.cmp-meta.xml", META.format(root="AuraDefinitionBundle"))
    write(root, "force-app/tests/classes/Deep/NestedTest.cls", "@IsTest private class NestedTest {}")
    write(root, "force-app/tests/classes/Deep/NestedTest.cls-meta.xml", META.format(root="ApexClass"))

    converted = convert_project(root)
    assert converted.members == {
        "ApexClass": ["FooService", "FooServiceTest", "NestedTest"],
        "ApexComponent": ["Banner"],
        "ApexPage": ["Hello"],
        "ApexTrigger": ["AccountTrigger"],
        "AuraDefinitionBundle": ["oldCard"],
        "CustomLabel": ["Farewell", "Greeting"],
        "CustomLabels": ["CustomLabels"],
        "CustomMetadata": ["Model_Setting.Default"],
        "Flow": ["Greeting_Flow"],
        "LightningComponentBundle": ["fooCard"],
        "PermissionSet": ["Model_User"],
        "StaticResource": ["bundle", "logo"],
    }
    archive = zipfile.ZipFile(io.BytesIO(converted.zip_bytes))
    _, problems = check_zip(archive)  # the fake org's independent check: package.xml <-> files
    assert problems == []
    assert archive.read("staticresources/logo.resource") == b"PNG"
    folder_resource = zipfile.ZipFile(io.BytesIO(archive.read("staticresources/bundle.resource")))
    assert sorted(folder_resource.namelist()) == ["app.js", "css/app.css"]
    assert converted.source_paths["classes/NestedTest.cls"] == "force-app/tests/classes/Deep/NestedTest.cls"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"classes/Lonely.cls": "public class Lonely {}"},
            "force-app/main/default/classes/Lonely.cls: has no Lonely.cls-meta.xml beside it (the org needs both files)",
        ),
        (
            {"classes/Ghost.cls-meta.xml": META.format(root="ApexClass")},
            "force-app/main/default/classes/Ghost.cls-meta.xml: its ApexClass source Ghost.cls is missing",
        ),
        (
            {"objects/Account/Account.object-meta.xml": "<CustomObject/>"},
            "force-app/main/default/objects/Account/Account.object-meta.xml: not a metadata type apexgen converts",
        ),
        (
            {"lwc/jsconfig.json": "{}"},
            "force-app/main/default/lwc/jsconfig.json: a file directly in lwc/ belongs to no bundle",
        ),
        (
            {"staticresources/missing.resource-meta.xml": META.format(root="StaticResource")},
            "force-app/main/default/staticresources/missing.resource-meta.xml: no static resource file or folder named missing",
        ),
    ],
)
def test_files_that_cannot_be_converted_are_named(tmp_path: Path, files: dict[str, str], message: str) -> None:
    root = write_sample_project(tmp_path)
    (root / ".forceignore").unlink()
    (root / "force-app/main/default/lwc/fooCard/__tests__/fooCard.test.js").unlink()
    (root / "force-app/main/default/lwc/fooCard/__tests__").rmdir()
    for path, text in files.items():
        write(root, f"force-app/main/default/{path}", text)
    with pytest.raises(ConvertError) as error:
        convert_project(root)
    assert str(error.value).startswith(message)


def test_the_same_class_twice_is_an_error(tmp_path: Path) -> None:
    root = write_sample_project(tmp_path)
    write(root, "force-app/other/FooService.cls", "public class FooService {}")
    write(root, "force-app/other/FooService.cls-meta.xml", META.format(root="ApexClass"))
    with pytest.raises(
        ConvertError,
        match=r"force-app/other/FooService.cls-meta.xml: ApexClass FooService is also "
        r"defined by force-app/main/default/classes/FooService.cls-meta.xml",
    ):
        convert_project(root)


def test_forceignore_leaves_out_files_and_folders(tmp_path: Path) -> None:
    root = write_sample_project(tmp_path)
    write(root, "force-app/main/default/classes/Scratch.cls", "public class Scratch {}")
    write(root, "force-app/main/default/wip/notes.txt", "todo")
    with (root / ".forceignore").open("a") as ignore:
        ignore.write("**/Scratch.cls\nforce-app/main/default/wip/\n")
    names = zip_names(convert_project(root).zip_bytes)
    assert "classes/Scratch.cls" not in names and not any("notes" in n for n in names)
    assert "classes/FooService.cls" in names


def test_without_forceignore_lwc_jest_tests_are_deployed_like_sf_does(tmp_path: Path) -> None:
    root = write_sample_project(tmp_path)
    (root / ".forceignore").unlink()
    assert "lwc/fooCard/__tests__/fooCard.test.js" in zip_names(convert_project(root).zip_bytes)


@pytest.mark.parametrize(
    ("project_json", "message"),
    [
        (None, "sfdx-project.json: not found"),
        ("{not json", "sfdx-project.json: not valid JSON"),
        (json.dumps({"packageDirectories": []}), "sfdx-project.json: packageDirectories: must list at least one"),
        (
            json.dumps({"packageDirectories": [{"path": "nowhere"}]}),
            "sfdx-project.json: packageDirectories: package directory 'nowhere' does not exist",
        ),
    ],
)
def test_bad_project_files(tmp_path: Path, project_json: str | None, message: str) -> None:
    if project_json is not None:
        (tmp_path / "sfdx-project.json").write_text(project_json)
    with pytest.raises(UsageError) as error:
        convert_project(tmp_path)
    assert message in str(error.value)


def test_api_version_defaults_when_the_project_names_none(tmp_path: Path) -> None:
    root = write_sample_project(tmp_path)
    (root / "sfdx-project.json").write_text(json.dumps({"packageDirectories": [{"path": "force-app"}]}))
    assert convert_project(root).package_xml.endswith(f"    <version>{API_VERSION}</version>\n</Package>\n")


def test_deploy_limits_are_checked_before_anything_is_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_sample_project(tmp_path)
    monkeypatch.setattr("apexgen.convert.converter.MAX_FILES", 8)
    with pytest.raises(ConvertError, match=r"the deploy would hold 9 files; the Metadata API takes at most 8"):
        convert_project(root)
    monkeypatch.setattr("apexgen.convert.converter.MAX_FILES", 10_000)
    monkeypatch.setattr("apexgen.convert.converter.MAX_ZIP_BYTES", 100)
    with pytest.raises(ConvertError, match=r"the deploy zip is 0\.0 MB; the Metadata API takes at most 0 MB"):
        convert_project(root)


def test_test_classes_are_found_by_their_class_annotation(tmp_path: Path) -> None:
    from apexgen.deploy.deploy import find_test_classes

    root = write_sample_project(tmp_path)
    classes = "force-app/main/default/classes"
    sources = {
        "SeeAllTest": "@isTest(SeeAllData=false)\npublic class SeeAllTest {}",
        "CommentedOut": "// @IsTest\npublic class CommentedOut {}",
        "BlockComment": "/* @IsTest */ public with sharing class BlockComment {}",
        "InnerOnly": "public class InnerOnly {\n    @IsTest static void notATestClass() {}\n}",
    }
    for name, text in sources.items():
        write(root, f"{classes}/{name}.cls", text)
        write(root, f"{classes}/{name}.cls-meta.xml", META.format(root="ApexClass"))
    assert find_test_classes(root, convert_project(root)) == ["FooServiceTest", "SeeAllTest"]
