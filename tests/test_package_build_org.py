"""What a 2GP version request carries besides the metadata, against the fake Dev Hub: the build org's definition
file and settings, Branch and Tag, apexTestAccess, and sf's default versionName."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from apexgen.project.sfdx_project import SfdxProject
from tests.fakes.org import FakeOrg, metadata_schema, write_sample_project
from tests.test_package import SF_PROJECT, created_package, new_version, no_traceback, packaging_org
from tests.test_package_ancestry import error_line, set_directory

DEFINITION = {
    "orgName": "Acme AI build org",
    "edition": "Partner Developer",
    "features": ["Einstein1AIPlatform"],
    "settings": {"einsteinGptSettings": {"enableEinsteinGptPlatform": True}},
}


@pytest.fixture
def org(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrg]:
    yield from packaging_org(request, monkeypatch)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr("apexgen.deploy.deploy.run_pre_deploy_checks", lambda root, checks: [])
    root = write_sample_project(tmp_path / "project")
    (root / "sfdx-project.json").write_text(SF_PROJECT)
    (root / "config").mkdir()
    (root / "config/build-org-def.json").write_text(json.dumps(DEFINITION, indent=2))
    return root


def sent(org: FakeOrg) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(list(org.version_requests.values())[-1].version_info))


def test_the_definition_file_shapes_the_build_org_as_sf_sends_it(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    set_directory(project, definitionFile="config/build-org-def.json")
    result = new_version(org, project)
    no_traceback(result)
    assert result.exit_code == 0, result.output
    archive = sent(org)
    assert sorted(archive.namelist()) == [
        "package.zip",
        "package2-descriptor.json",
        "scratch-org-definition.json",
        "settings.zip",
    ]
    assert archive.read("scratch-org-definition.json") == (project / "config/build-org-def.json").read_bytes()
    descriptor = json.loads(archive.read("package2-descriptor.json"))
    assert descriptor["edition"] == "Partner Developer"
    assert descriptor["features"] == ["Einstein1AIPlatform"]
    assert "definitionFile" not in descriptor and "settings" not in descriptor and "orgName" not in descriptor
    settings = zipfile.ZipFile(io.BytesIO(archive.read("settings.zip")))
    assert sorted(settings.namelist()) == ["package.xml", "settings/EinsteinGpt.settings"]
    document = etree.fromstring(settings.read("settings/EinsteinGpt.settings"))
    schema = metadata_schema("EinsteinGptSettings")
    assert schema.validate(document), schema.error_log
    assert document.findtext("{*}enableEinsteinGptPlatform") == "true"
    assert b"<members>EinsteinGpt</members>" in settings.read("package.xml")


def test_the_definition_file_flag_wins_over_the_directory(org: FakeOrg, project: Path, tmp_path: Path) -> None:
    created_package(org, project)
    set_directory(project, definitionFile="config/build-org-def.json")
    other = tmp_path / "enterprise.json"
    other.write_text(json.dumps({"edition": "Enterprise", "features": ["Einstein1AIPlatform"]}))
    result = new_version(org, project, "--definition-file", str(other))
    assert result.exit_code == 0, result.output
    archive = sent(org)
    assert json.loads(archive.read("package2-descriptor.json"))["edition"] == "Enterprise"
    assert "settings.zip" not in archive.namelist()


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"features": []}, "edition must be one of Developer, Enterprise, Group, Partner Developer"),
        ({"edition": "Developer", "features": "Einstein1AIPlatform"}, "features must be a list of feature names"),
        (
            {"edition": "Developer", "settings": {"a": {"b": True}}, "orgPreferences": {"enabled": ["X"]}},
            "You cannot use 'settings' and 'orgPreferences' in your scratch definition file, please specify one or "
            "the other.",
        ),
        ({"edition": "Developer", "settings": {"einsteinGptSettings": True}}, "settings must map each settings name"),
    ],
)
def test_a_bad_definition_file_exits_2_naming_the_file_before_the_org_is_called(
    org: FakeOrg, project: Path, definition: dict, message: str
) -> None:
    created_package(org, project)
    (project / "config/build-org-def.json").write_text(json.dumps(definition))
    set_directory(project, definitionFile="config/build-org-def.json")
    calls = len(org.calls)
    result = new_version(org, project)
    no_traceback(result)
    assert result.exit_code == 2
    assert error_line(result).startswith("error: sfdx-project.json: definitionFile config/build-org-def.json: ")
    assert message in error_line(result)
    assert len(org.calls) == calls


def test_a_missing_definition_file_names_the_flag(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    result = new_version(org, project, "--definition-file", "nowhere.json")
    assert result.exit_code == 2
    assert error_line(result) == "error: --definition-file nowhere.json: the definition file does not exist"


def test_branch_tag_and_language_are_sent_and_the_alias_names_the_branch(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    set_directory(project, branch="spring", language="de")
    result = new_version(org, project, "--tag", "a1b2c3d")
    assert result.exit_code == 0, result.output
    request = list(org.version_requests.values())[-1]
    assert (request.branch, request.tag, request.language) == ("spring", "a1b2c3d", "de")
    assert "language" not in request.descriptor  # the package directory's language is the request's Language
    assert "branch" not in request.descriptor  # sf sends it as the request's Branch only
    assert "Version: AcmeAI 0.1.0-1 (alias AcmeAI@0.1.0-1-spring)" in result.stdout
    flag = new_version(org, project, "--branch", "summer")
    assert flag.exit_code == 0, flag.output
    assert list(org.version_requests.values())[-1].branch == "summer"
    assert "AcmeAI@0.1.0-1-summer" in SfdxProject.load(project).aliases  # build numbers count per branch


def test_apex_test_access_becomes_permission_set_names_when_tests_run(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    set_directory(
        project, apexTestAccess={"permissionSets": "AcmeAI_Access, Other", "permissionSetLicenses": ["EinsteinGPT"]}
    )
    assert new_version(org, project).exit_code == 0
    descriptor = list(org.version_requests.values())[-1].descriptor
    assert descriptor["permissionSetNames"] == ["AcmeAI_Access", "Other"]
    assert descriptor["permissionSetLicenseDeveloperNames"] == ["EinsteinGPT"]
    assert "apexTestAccess" not in descriptor
    assert new_version(org, project, "--skip-validation").exit_code == 0  # no tests run: nothing to grant
    assert "permissionSetNames" not in list(org.version_requests.values())[-1].descriptor
    set_directory(project, apexTestAccess={"permissionSets": [3]})
    bad = new_version(org, project)
    assert bad.exit_code == 2
    assert error_line(bad).startswith(
        "error: sfdx-project.json: apexTestAccess.permissionSets of package directory 'force-app' must be a list"
    )


def test_a_missing_version_name_is_the_version_number_as_sf_sets_it(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    set_directory(project, versionName=None, versionNumber="1.2.0.NEXT")
    result = new_version(org, project)
    assert result.exit_code == 0, result.output
    assert (
        "versionName is blank in sfdx-project.json, so it will be set to this default value based on the "
        "versionNumber: 1.2.0" in result.stderr
    )
    assert list(org.version_requests.values())[-1].descriptor["versionName"] == "1.2.0"


def test_a_namespaced_project_from_init_builds_its_versions_in_an_org_with_einstein(
    org: FakeOrg, tmp_path: Path
) -> None:
    """init --namespace writes the build-org definition; package create references it; versions carry it."""
    from tests.conftest import Cli
    from tests.test_package import package

    root = tmp_path / "acme"
    assert Cli()("init", str(root), "--namespace", "acmeai").exit_code == 0
    definition = json.loads((root / "config/project-scratch-def.json").read_text())
    assert definition["features"] == ["Einstein1AIPlatform"]
    assert definition["settings"] == {"einsteinGptSettings": {"enableEinsteinGptPlatform": True}}
    (root / "force-app/main/default/classes").mkdir(parents=True)
    for name in ("FooService", "FooServiceTest"):
        source = write_sample_project(tmp_path / "sample") / f"force-app/main/default/classes/{name}.cls"
        for suffix in ("", "-meta.xml"):
            (root / f"force-app/main/default/classes/{name}.cls{suffix}").write_bytes(
                Path(f"{source}{suffix}").read_bytes()
            )
    assert package(org, root, "create", "--name", "AcmeAI").exit_code == 0
    entry = SfdxProject.load(root).directories()[0]
    assert entry["definitionFile"] == "config/project-scratch-def.json"
    result = new_version(org, root)
    assert result.exit_code == 0, result.output
    archive = sent(org)
    assert json.loads(archive.read("package2-descriptor.json"))["features"] == ["Einstein1AIPlatform"]
    assert "settings.zip" in archive.namelist()


def test_init_without_a_namespace_writes_no_build_org(tmp_path: Path) -> None:
    from tests.conftest import Cli

    assert Cli()("init", str(tmp_path / "plain")).exit_code == 0
    assert not (tmp_path / "plain/config").exists()
