"""apexgen package against the wire-level fake org: 2GP package versions in a Dev Hub, 1GP uploads, and
sfdx-project.json kept in the shape the sf CLI writes. Assertions are on what the user sees."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from apexgen.check.findings import Finding
from apexgen.cli import main
from apexgen.project.sfdx_project import SfdxProject
from tests.fakes.clock import clock_for
from tests.fakes.org import FakeOrg, Scenario, check_version_info, running_org, write_sample_project
from tests.fakes.terminal import interrupt_when, run_with_stderr_on_terminal

REPO = Path(__file__).resolve().parents[1]
INSTALL_KEY = "install-Key-s3cret!"
SF_PROJECT = """{
  "packageDirectories": [
    {
      "path": "force-app",
      "default": true
    }
  ],
  "name": "acme",
  "namespace": "acmeai",
  "sfdcLoginUrl": "https://login.salesforce.com",
  "sourceApiVersion": "63.0",
  "plugins": {
    "notes": "kept as it is"
  }
}
"""


def packaging_org(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrg]:
    """The fake Dev Hub and packaging org on loopback, for a fixture to yield from; after the test, no
    VersionInfo zip may have broken the rules of a 2GP version."""
    with running_org(FakeOrg(clock_for(request, monkeypatch))) as (fake, server):
        fake.ca_bundle = server.ca_bundle  # type: ignore[attr-defined]
        yield fake
    assert fake.package_problems == [], "a VersionInfo zip broke the rules of a 2GP version"


@pytest.fixture
def org(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrg]:
    for fake in packaging_org(request, monkeypatch):
        fake.metadata_packages["033000000000001AAA"] = {
            "Id": "033000000000001AAA",
            "Name": "Acme AI",
            "NamespacePrefix": "acmeai",
            "Members": {("ApexClass", "FooService"), ("ApexClass", "FooServiceTest")},  # deployed with its name
        }
        yield fake


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_sample_project(tmp_path / "project")
    (root / "sfdx-project.json").write_text(SF_PROJECT)
    return root


@pytest.fixture(autouse=True)
def checks_pass(monkeypatch: pytest.MonkeyPatch) -> list:
    """Package versions reach the checks through the seam deploys use."""
    calls: list = []
    monkeypatch.setattr("apexgen.deploy.deploy.run_pre_deploy_checks", lambda root, checks: calls.append(checks) or [])
    return calls


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "install.key"
    path.write_text(INSTALL_KEY + "\n")
    return path


def package(org: FakeOrg, project: Path, *args: str, env: dict | None = None) -> Result:
    environment = {"REQUESTS_CA_BUNDLE": org.ca_bundle, "SF_ACCESS_TOKEN": org.access_token}  # type: ignore[attr-defined]
    environment.update(env or {})
    login = [] if "--username" in args else ["--instance-url", org.url]
    command = list(args[:2]) if args[0] == "version" else list(args[:1])
    rest = list(args[len(command) :])
    return CliRunner().invoke(
        main, ["package", *command, "--project-dir", str(project), *login, *rest], env=environment
    )


def created_package(org: FakeOrg, project: Path) -> str:
    result = package(org, project, "create", "--name", "AcmeAI", "--description", "Models API actions")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def new_version(org: FakeOrg, project: Path, *args: str, env: dict | None = None) -> Result:
    return package(org, project, "version", "create", "--installation-key-bypass", *args, env=env)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# ---------------------------------------------------------------------------------------------- sfdx-project.json


def test_package_create_records_the_package_as_sf_does(org: FakeOrg, project: Path) -> None:
    package_id = created_package(org, project)
    assert package_id == "0Ho000000000001AAA"
    assert org.packages[package_id]["ContainerOptions"] == "Managed"
    assert org.packages[package_id]["NamespacePrefix"] == "acmeai"
    assert (
        (project / "sfdx-project.json").read_text()
        == """{
  "packageDirectories": [
    {
      "path": "force-app",
      "default": true,
      "package": "AcmeAI",
      "versionName": "ver 0.1",
      "versionNumber": "0.1.0.NEXT",
      "versionDescription": "Models API actions"
    }
  ],
  "name": "acme",
  "namespace": "acmeai",
  "sfdcLoginUrl": "https://login.salesforce.com",
  "sourceApiVersion": "63.0",
  "plugins": {
    "notes": "kept as it is"
  },
  "packageAliases": {
    "AcmeAI": "0Ho000000000001AAA"
  }
}
"""
    )


def test_a_round_trip_changes_nothing_and_an_alias_adds_one_line(tmp_path: Path) -> None:
    text = SF_PROJECT.replace(
        '"path": "force-app",',
        '"path": "force-app",\n      "package": "AcmeAI",\n'
        '      "versionName": "Spring \\u2019s \\"best\\"",\n      "versionNumber": "1.2.0.NEXT",',
    )
    text = text.rstrip("\n")[:-2] + ',\n  "packageAliases": {\n    "AcmeAI": "0Ho000000000001AAA"\n  }\n}'
    (tmp_path / "sfdx-project.json").write_text(text)  # no final newline, as JSON.stringify writes it
    loaded = SfdxProject.load(tmp_path)
    loaded.save()
    after_round_trip = (tmp_path / "sfdx-project.json").read_text()
    assert after_round_trip == text.replace("\\u2019", "\u2019")  # sf writes non-ASCII as it is
    loaded.set_alias("AcmeAI@1.2.0-1", "04t000000000001AAA")
    loaded.save()
    assert (tmp_path / "sfdx-project.json").read_text() == after_round_trip.replace(
        '    "AcmeAI": "0Ho000000000001AAA"\n',
        '    "AcmeAI": "0Ho000000000001AAA",\n    "AcmeAI@1.2.0-1": "04t000000000001AAA"\n',
    )


def test_an_unlocked_package_needs_no_namespace_and_a_managed_one_does(org: FakeOrg, project: Path) -> None:
    project_file = project / "sfdx-project.json"
    project_file.write_text(SF_PROJECT.replace('"namespace": "acmeai"', '"namespace": ""'))
    managed = package(org, project, "create", "--name", "AcmeAI")
    assert managed.exit_code == 2
    assert managed.stderr.strip() == (
        'error: --type Managed: a managed package needs a namespace; set "namespace" in '
        "sfdx-project.json (apexgen init --namespace) to one linked to the Dev Hub"
    )
    assert org.calls == []
    unlocked = package(org, project, "create", "--name", "AcmeAI", "--type", "Unlocked", "--json")
    assert unlocked.exit_code == 0, unlocked.output
    assert json.loads(unlocked.stdout)["result"] == {
        "id": "0Ho000000000001AAA",
        "name": "AcmeAI",
        "type": "Unlocked",
        "path": "force-app",
        "namespace": None,
    }
    assert org.packages["0Ho000000000001AAA"]["NamespacePrefix"] is None
    assert org.packages["0Ho000000000001AAA"]["ContainerOptions"] == "Unlocked"


def test_a_second_package_on_the_same_directory_is_refused_before_the_org_is_called(
    org: FakeOrg, project: Path
) -> None:
    created_package(org, project)
    calls = len(org.calls)
    result = package(org, project, "create", "--name", "Other")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: sfdx-project.json: package directory 'force-app' already belongs to "
        "package 'AcmeAI'; pass --path for another directory"
    )
    assert len(org.calls) == calls


# ---------------------------------------------------------------------------------------------- 2GP versions


def test_version_create_prints_the_version_install_url_and_coverage_and_writes_the_alias(
    org: FakeOrg, project: Path, key_file: Path
) -> None:
    created_package(org, project)
    before = (project / "sfdx-project.json").read_text()
    result = package(org, project, "version", "create", "--installation-key-file", str(key_file))
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Package version request 08c000000000001AAA: Success\n"
        "Version: AcmeAI 0.1.0-1 (alias AcmeAI@0.1.0-1)\n"
        "Subscriber package version id: 04t000000000001AAA\n"
        "Install URL: https://login.salesforce.com/packaging/installPackage.apexp?p0=04t000000000001AAA\n"
        "Code coverage: 90% (meets the 75% needed to promote)\n"
    )
    assert (
        "Package version request 08c000000000001AAA started: AcmeAI 0.1.0.NEXT, 4 components, code coverage "
        "on, installation key set"
    ) in result.stderr
    assert "Wrote AcmeAI@0.1.0-1: 04t000000000001AAA to packageAliases of sfdx-project.json" in result.stderr
    request = org.version_requests["08c000000000001AAA"]
    assert request.install_key == INSTALL_KEY and request.calculate_coverage and not request.skip_validation
    after = (project / "sfdx-project.json").read_text()
    assert after == before.replace(
        '"AcmeAI": "0Ho000000000001AAA"\n',
        '"AcmeAI": "0Ho000000000001AAA",\n    "AcmeAI@0.1.0-1": "04t000000000001AAA"\n',
    )

    second = new_version(org, project, "--json")
    assert second.exit_code == 0, second.output
    document = json.loads(second.stdout)["result"]
    assert document == {
        "id": "08c000000000002AAA",
        "status": "Success",
        "success": True,
        "package": "AcmeAI",
        "packageId": "0Ho000000000001AAA",
        "versionId": "05i000000000002AAA",
        "subscriberPackageVersionId": "04t000000000002AAA",
        "version": "0.1.0-2",
        "alias": "AcmeAI@0.1.0-2",
        "installUrl": "https://login.salesforce.com/packaging/installPackage.apexp?p0=04t000000000002AAA",
        "codeCoverage": {"calculated": True, "percent": 90.0, "requiredPercent": 75.0, "passed": True},
        "errors": [],
    }
    assert org.version_requests["08c000000000002AAA"].install_key is None
    assert SfdxProject.load(project).aliases["AcmeAI@0.1.0-2"] == "04t000000000002AAA"


def test_the_version_alias_uses_the_projects_name_for_the_package(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    project_file = project / "sfdx-project.json"
    project_file.write_text(project_file.read_text().replace('"AcmeAI"', '"Acme AI"'))  # sf allows any alias
    result = new_version(org, project)
    assert result.exit_code == 0, result.output
    assert "Version: AcmeAI 0.1.0-1 (alias Acme AI@0.1.0-1)" in result.stdout  # Package2.Name, then the alias
    assert SfdxProject.load(project).aliases == {
        "Acme AI": "0Ho000000000001AAA",
        "Acme AI@0.1.0-1": "04t000000000001AAA",
    }


def test_a_generated_namespaced_project_becomes_a_managed_package_version(org: FakeOrg, tmp_path: Path) -> None:
    """apexgen init --namespace, generate, package create, version create: the whole release path."""
    from tests.conftest import Cli
    from tests.test_golden import CASES

    cli, root = Cli(), tmp_path / "acme"
    assert cli("init", str(root), "--namespace", "acmeai").exit_code == 0
    (root / "apexgen.toml").write_text((CASES / "namespaced" / "apexgen.toml").read_text())
    assert cli("generate", cwd=root).exit_code == 0
    assert package(org, root, "create", "--name", "Acme AI").exit_code == 0
    result = new_version(org, root)
    assert result.exit_code == 0, result.output
    assert "Version: Acme AI 0.1.0-1 (alias Acme AI@0.1.0-1)" in result.stdout
    assert org.packages["0Ho000000000001AAA"]["NamespacePrefix"] == "acmeai"
    request = org.version_requests["08c000000000001AAA"]
    assert "SummarizeAction" in request.covered_classes  # package.zip held the generated global entry points
    assert any(cls == "SummarizeActionTest" for cls, _ in request.test_methods)  # and their tests


def test_version_info_holds_package_zip_without_full_name_and_the_descriptor(org: FakeOrg, project: Path) -> None:
    from apexgen.packaging.versions import build_version_info

    package_id = created_package(org, project)
    build = build_version_info(project, SfdxProject.load(project), None, "skip")
    archive = zipfile.ZipFile(io.BytesIO(build.version_info))
    assert sorted(archive.namelist()) == ["package.zip", "package2-descriptor.json"]
    assert json.loads(archive.read("package2-descriptor.json")) == {
        "id": package_id,
        "path": "force-app",
        "versionName": "ver 0.1",
        "versionNumber": "0.1.0.NEXT",
        "versionDescription": "Models API actions",
    }
    assert check_version_info(build.version_info, package_id)[2] == []

    # The fake org catches what Salesforce would: a <fullName> makes package.zip a 1GP zip.
    inner = zipfile.ZipFile(io.BytesIO(archive.read("package.zip")))
    tampered_inner, tampered = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(tampered_inner, "w") as out:
        for name in inner.namelist():
            data = inner.read(name)
            out.writestr(
                name,
                data.replace(b"<types>", b"<fullName>AcmeAI</fullName>\n    <types>", 1)
                if name == "package.xml"
                else data,
            )
    with zipfile.ZipFile(tampered, "w") as out:
        out.writestr("package.zip", tampered_inner.getvalue())
        out.writestr("package2-descriptor.json", json.dumps({"id": package_id, "versionNumber": "1.0"}))
    assert check_version_info(tampered.getvalue(), package_id)[2] == [
        "package2-descriptor.json: versionNumber '1.0' is not M.m.p.NEXT",
        "package2-descriptor.json: versionName is missing",
        "package.xml has a fullName: the zip is a first-generation package, not a 2GP version",
    ]


def test_check_errors_stop_the_version_before_anything_is_sent(
    org: FakeOrg, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created_package(org, project)
    finding = Finding(
        "force-app/main/default/classes/FooService.cls", 3, 9, "error", "apex-parser", "syntax", "missing ';'"
    )
    monkeypatch.setattr("apexgen.deploy.deploy.run_pre_deploy_checks", lambda root, checks: [finding])
    result = new_version(org, project)
    assert result.exit_code == 1
    assert "force-app/main/default/classes/FooService.cls:3:9 error apex-parser syntax missing ';'" in result.stderr
    assert org.call_count("create:Package2VersionCreateRequest") == 0


def test_deep_checks_run_and_their_findings_are_shown(
    org: FakeOrg, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created_package(org, project)
    seen: list = []
    service = "force-app/main/default/classes/FooService.cls"
    findings = [
        Finding(service, 4, 31, "high", "pmd", "ApexSOQLInjection", "Avoid untrusted/unescaped variables"),
        Finding(service, 1, 1, "low", "pmd", "ApexDoc", "missing ApexDoc"),
    ]
    monkeypatch.setattr(
        "apexgen.deploy.deploy.run_pre_deploy_checks", lambda root, checks: seen.append(checks) or findings
    )
    result = new_version(org, project, "--deep-checks")
    assert result.exit_code == 0, result.output
    assert seen == ["deep"]
    assert f"check: {service}:4:31 high pmd ApexSOQLInjection Avoid untrusted/unescaped variables" in result.stderr
    assert "check: 1 low rule finding(s) not shown: 'apexgen check' lists them" in result.stderr
    assert new_version(org, project, "--skip-checks").exit_code == 0
    assert seen == ["deep"]


def test_coverage_under_75_percent_builds_a_version_that_cannot_be_promoted_and_exits_1(
    org: FakeOrg, project: Path
) -> None:
    created_package(org, project)
    org.scenario = Scenario(outcome="low_coverage")
    result = new_version(org, project)
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "Package version request 08c000000000001AAA: Success"
    assert (
        "Code coverage: 60% (below the 75% needed to promote; this version cannot be promoted)"
        in result.stdout.splitlines()
    )
    promote = package(org, project, "version", "promote", "AcmeAI@0.1.0-1")
    assert promote.exit_code == 1
    assert promote.stderr.splitlines()[-1] == (
        "error: Tooling API: This package version can't be promoted: its code coverage is 60%, below the required 75%."
    )
    assert org.package_versions["05i000000000001AAA"]["IsReleased"] is False


def test_compile_failure_shows_every_error_in_full_and_writes_no_alias(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    org.scenario = Scenario(outcome="component_failure")
    result = new_version(org, project)
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stdout == (
        "Package version request 08c000000000001AAA: Error\n"
        "  FooService: Variable does not exist: totl (FooService: line 12, column 16)\n"
        "  FooServiceTest: Dependent class is invalid and needs recompilation:\n"
        "   Class FooService : Variable does not exist: totl\n"
    )
    assert "AcmeAI@" not in (project / "sfdx-project.json").read_text()


def test_test_failure_fails_the_version_and_json_lists_the_error(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    org.scenario = Scenario(outcome="test_failure")
    result = new_version(org, project, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)["result"]
    assert document["status"] == "Error" and document["success"] is False
    assert document["errors"] == [
        "ApexTestFailure: FooServiceTest.greetsByName: System.AssertException: "
        "Assertion Failed: Expected: hi, Actual: hello"
    ]
    assert document["subscriberPackageVersionId"] is None and document["alias"] is None


def test_skip_validation_builds_without_coverage_and_promote_is_refused(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    result = new_version(org, project, "--skip-validation")
    assert result.exit_code == 0, result.output
    assert (
        "Code coverage: not calculated (validation skipped or coverage off); this version cannot be promoted"
        in result.stdout
    )
    request = org.version_requests["08c000000000001AAA"]
    assert request.skip_validation and not request.calculate_coverage
    promote = package(org, project, "version", "promote", "04t000000000001AAA")
    assert promote.exit_code == 1
    assert "code coverage was not calculated for this version" in promote.stderr


def test_promote_releases_a_version_by_alias_once(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    assert new_version(org, project).exit_code == 0
    result = package(org, project, "version", "promote", "AcmeAI@0.1.0-1")
    assert result.exit_code == 0, result.output
    assert result.stdout == "04t000000000001AAA\n"
    assert "AcmeAI 0.1.0-1 (04t000000000001AAA) is released" in result.stderr
    assert org.package_versions["05i000000000001AAA"]["IsReleased"] is True
    again = package(org, project, "version", "promote", "AcmeAI@0.1.0-1", "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["result"]["alreadyReleased"] is True
    assert org.call_count("update:Package2Version") == 1


def test_wait_that_runs_out_says_so_with_the_resume_command(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    org.scenario = Scenario(pending=0.2, duration=30.0)
    result = new_version(org, project, "--wait", "2s")
    no_traceback(result)
    assert result.exit_code == 1
    assert re.search(
        r"error: the wait of 2 s ran out; 08c000000000001AAA is still (Initializing|Verifying\w+) "
        r"in the org",
        result.stderr,
    ), result.stderr
    assert (
        "08c000000000001AAA may still be running in the Dev Hub: apexgen package version create --resume "
        "08c000000000001AAA"
    ) in result.stderr


def test_wait_zero_returns_the_request_id_and_resume_reports_it(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    org.scenario = Scenario(pending=0.2, duration=1.0)
    started = new_version(org, project, "--wait", "0")
    assert started.exit_code == 0
    assert started.stdout == "08c000000000001AAA\n"
    assert "Not waiting. Report it with: apexgen package version create --resume 08c000000000001AAA" in started.stderr
    resumed = package(org, project, "version", "create", "--resume", "08c000000000001AAA")
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.startswith(
        "Package version request 08c000000000001AAA: Success\nVersion: AcmeAI 0.1.0-1 (alias AcmeAI@0.1.0-1)\n"
    )
    assert SfdxProject.load(project).aliases["AcmeAI@0.1.0-1"] == "04t000000000001AAA"
    assert org.call_count("create:Package2VersionCreateRequest") == 1


def test_a_long_build_is_polled_less_and_less_often(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    org.scenario = Scenario(pending=0.2, duration=6.0)
    assert new_version(org, project).exit_code == 0
    polls = [t for t, name in org.calls if name == "query:Package2VersionCreateRequest"]
    gaps = [b - a for a, b in pairwise(polls)]
    assert len(polls) == 4, gaps  # at 0.5, 1.5, 3.5 and 7.5 s: a fixed 1 s grid would have polled 7 times
    assert all(later > 1.7 * earlier for earlier, later in pairwise(gaps)), gaps


def test_status_changes_are_logged_on_a_pipe(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    org.scenario = Scenario(pending=0.8, duration=1.2)
    result = new_version(org, project)
    assert result.exit_code == 0, result.output
    assert "Version request 08c000000000001AAA: Queued\n" in result.stderr
    assert "Version request 08c000000000001AAA: Success" not in result.stderr  # the summary on stdout says it


def test_unknown_request_id_is_a_usage_error(org: FakeOrg, project: Path) -> None:
    result = package(org, project, "version", "create", "--resume", "08c000000000999AAA", "--json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["message"] == "the Dev Hub has no package version request 08c000000000999AAA"
    assert document["exitCode"] == 2 and document["data"] == {"id": "08c000000000999AAA"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["version", "create", "--skip-validation", "--code-coverage", "--installation-key-bypass"],
            "error: --skip-validation and --code-coverage cannot be combined: coverage is calculated while the version "
            "is validated",
        ),
        (
            ["version", "create"],
            "error: a version needs an installation key or none on purpose: pass "
            "--installation-key-file FILE, set SF_INSTALLATION_KEY, or pass --installation-key-bypass",
        ),
        (
            ["version", "create", "--installation-key-bypass", "--installation-key-file", "k"],
            "error: --installation-key-file and --installation-key-bypass cannot be combined",
        ),
        (
            ["version", "create", "--resume", "0Af000000000001AAA"],
            "error: --resume: '0Af000000000001AAA' is not a package version request id (08c and 12 or 15 letters "
            "and digits)",
        ),
        (
            ["version", "create", "--resume", "08c000000000001AAA", "--package", "AcmeAI"],
            "error: --resume follows a request already sent; --package cannot be combined with it",
        ),
        (
            ["version", "create", "--installation-key-bypass", "--wait", "soon"],
            "error: --wait: 'soon' is not a duration such as 33 (minutes), 90s, 10m or 1h",
        ),
        (
            ["version", "create", "--installation-key-bypass"],
            "error: sfdx-project.json: no default package directory names a package; pass --package NAME or run "
            "apexgen package create first",
        ),
        (
            ["version", "promote", "Nope@1.0.0-1"],
            "error: 'Nope@1.0.0-1' is neither a package version id (04t...) nor an alias of one in sfdx-project.json "
            "packageAliases (known: none)",
        ),
        (
            ["upload", "--name", "Spring", "--version", "1"],
            "error: --version: '1' is not MAJOR.MINOR, such as 1.2 (the patch number is assigned)",
        ),
        (["upload"], "error: --name: name the new version (or pass --resume UPLOAD_ID)"),
        (
            ["upload", "--name", "Spring", "--package-id", "04t000000000001AAA"],
            "error: --package-id: '04t000000000001AAA' is not a package id (033 and 12 or 15 letters and digits)",
        ),
    ],
)
def test_bad_flags_exit_2_before_the_org_is_called(org: FakeOrg, project: Path, args: list[str], message: str) -> None:
    result = package(org, project, *args)
    no_traceback(result)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == message
    assert org.calls == []


def test_a_dropped_version_request_is_not_sent_again_and_exits_4(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    org.scenario = Scenario(deploy_fault="drop")
    result = new_version(org, project)
    no_traceback(result)
    assert result.exit_code == 4
    assert (
        "error: create Package2VersionCreateRequest: the connection to the org failed or was dropped; the "
        "request was not re-sent, so it may or may not have reached the org"
    ) in result.stderr
    assert org.call_count("create:Package2VersionCreateRequest") == 1


def test_a_rejected_login_exits_4(org: FakeOrg, project: Path) -> None:
    result = package(
        org,
        project,
        "create",
        "--name",
        "AcmeAI",
        "--username",
        org.username,
        "--login-url",
        org.url,
        env={"SF_PASSWORD": "wrong", "SF_SECURITY_TOKEN": org.security_token},
    )
    assert result.exit_code == 4
    assert "INVALID_LOGIN" in result.stderr
    assert org.packages == {}


# ---------------------------------------------------------------------------------------------- 1GP uploads


def test_upload_finds_the_package_by_namespace_and_prints_the_version(org: FakeOrg, project: Path) -> None:
    result = package(org, project, "upload", "--name", "Spring '26", "--version", "1.2")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Package upload 0HD000000000001AAA: SUCCESS\n"
        "Version: 1.2.0 (Beta)\n"
        "Package version id: 04t000000000001AAA\n"
        "Install URL: https://login.salesforce.com/packaging/installPackage.apexp?p0=04t000000000001AAA\n"
    )
    upload = org.uploads["0HD000000000001AAA"]
    assert (upload.package_id, upload.version_name, upload.release, upload.version) == (
        "033000000000001AAA",
        "Spring '26",
        False,
        (1, 2),
    )
    released = package(
        org, project, "upload", "--name", "Summer", "--release", "--package-id", "033000000000001AAA", "--json"
    )
    assert released.exit_code == 0, released.output
    document = json.loads(released.stdout)["result"]
    assert (document["status"], document["releaseState"], document["subscriberPackageVersionId"]) == (
        "SUCCESS",
        "Released",
        "04t000000000002AAA",
    )


@pytest.mark.parametrize("outcome", ["test_failure", "failing"])
def test_upload_failure_shows_every_error(org: FakeOrg, project: Path, outcome: str) -> None:
    org.scenario = Scenario(outcome=outcome)
    result = package(org, project, "upload", "--name", "Spring")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "Package upload 0HD000000000001AAA: ERROR"
    assert (
        "  ApexTestFailure: FooServiceTest.greetsByName: System.AssertException: Assertion Failed: Expected: hi, "
        "Actual: hello"
    ) in lines
    assert (
        ("  Average test coverage across all Apex Classes and Triggers is 60%, at least 75% test coverage is required.")
        in lines
    ) == (outcome == "failing")


def test_upload_wait_runs_out_then_resumes(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(pending=0.2, duration=3.0)
    result = package(org, project, "upload", "--name", "Spring", "--wait", "1s")
    assert result.exit_code == 1
    assert "error: the wait of 1 s ran out; 0HD000000000001AAA is still IN_PROGRESS in the org" in result.stderr
    assert "apexgen package upload --resume 0HD000000000001AAA" in result.stderr
    resumed = package(org, project, "upload", "--resume", "0HD000000000001AAA")
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.startswith("Package upload 0HD000000000001AAA: SUCCESS\n")


def test_upload_for_a_namespace_the_org_does_not_have(org: FakeOrg, project: Path) -> None:
    org.metadata_packages.clear()
    result = package(org, project, "upload", "--name", "Spring")
    assert result.exit_code == 2
    assert "error: the packaging org has no package with namespace 'acmeai'; pass --package-id" in result.stderr
    assert org.call_count("create:PackageUploadRequest") == 0


# ---------------------------------------------------------------------------------------------- secrets


def test_no_secret_in_any_output(org: FakeOrg, project: Path, key_file: Path) -> None:
    """Installation keys (file and environment) and access tokens, with --verbose, text and JSON, pass and fail."""
    outputs: list[str] = []

    def keep(result: Result) -> None:
        outputs.extend([result.stdout, result.stderr])

    keep(package(org, project, "create", "--name", "AcmeAI", "--verbose"))
    for outcome in ("success", "test_failure", "low_coverage"):
        org.scenario = Scenario(outcome=outcome)
        for extra in ([], ["--json"]):
            keep(
                package(
                    org, project, "version", "create", "--installation-key-file", str(key_file), "--verbose", *extra
                )
            )
            keep(
                package(
                    org, project, "version", "create", "--verbose", *extra, env={"SF_INSTALLATION_KEY": INSTALL_KEY}
                )
            )
            keep(
                package(
                    org,
                    project,
                    "upload",
                    "--name",
                    "Spring",
                    "--installation-key-file",
                    str(key_file),
                    "--verbose",
                    *extra,
                )
            )
    keep(package(org, project, "version", "promote", "AcmeAI@0.1.0-1", "--verbose"))
    project_file = project / "sfdx-project.json"  # after a release, the next version descends from it
    project_file.write_text(
        project_file.read_text().replace('"0.1.0.NEXT"', '"0.2.0.NEXT", "ancestorVersion": "HIGHEST"')
    )
    env = {"SF_PASSWORD": org.password, "SF_SECURITY_TOKEN": org.security_token, "SF_INSTALLATION_KEY": INSTALL_KEY}
    keep(
        package(
            org, project, "version", "create", "--username", org.username, "--login-url", org.url, "--verbose", env=env
        )
    )
    assert [r.install_key for r in org.version_requests.values()] == [INSTALL_KEY] * 13  # the key did reach the org
    assert {u.password for u in org.uploads.values()} == {INSTALL_KEY}
    everything = "\n".join(outputs)
    assert "[apexgen] POST tooling/sobjects/Package2VersionCreateRequest" in everything  # --verbose logged calls
    secrets = [
        INSTALL_KEY,
        org.password,
        org.security_token,
        *org.issued_sessions,
        base64.b64encode(INSTALL_KEY.encode()).decode(),
    ]
    assert [secret for secret in secrets if secret in everything] == []


# ---------------------------------------------------------------------------------------------- long waits


def test_status_query_failures_and_an_expired_session_do_not_end_the_wait(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    org.scenario = Scenario(pending=0.2, duration=2.0, status_faults={1: "503", 3: "drop", 4: "expire"})
    env = {"SF_PASSWORD": org.password, "SF_SECURITY_TOKEN": org.security_token}
    result = new_version(org, project, "--username", org.username, "--login-url", org.url, env=env)
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Package version request 08c000000000001AAA: Success\n")
    assert org.call_count("login") == 2
    assert org.status_calls >= 5  # the faults were played
    assert org.call_count("create:Package2VersionCreateRequest") == 1


def _command(org: FakeOrg, project: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "generator"),
        "REQUESTS_CA_BUNDLE": org.ca_bundle,  # type: ignore[attr-defined]
        "SF_ACCESS_TOKEN": org.access_token,
        "TERM": "xterm-256color",
    }
    env.pop("NO_COLOR", None)
    return (
        [
            sys.executable,
            "-m",
            "apexgen",
            "package",
            "version",
            "create",
            "--project-dir",
            str(project),
            "--instance-url",
            org.url,
            "--installation-key-bypass",
            "--skip-checks",
            *args,
        ],
        env,
    )


@pytest.mark.real_clock  # the CLI runs in a subprocess, on the real clock
def test_ctrl_c_prints_the_request_id_and_the_resume_command(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    org.scenario = Scenario(duration=60.0)
    command, env = _command(org, project)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = interrupt_when(process, lambda: org.call_count("query:Package2VersionCreateRequest") >= 1)
    assert process.returncode == 130
    assert stdout == ""
    assert (
        "interrupted; 08c000000000001AAA goes on in the Dev Hub. Follow it: apexgen package version create "
        "--resume 08c000000000001AAA"
    ) in stderr
    assert "Traceback" not in stderr


@pytest.mark.real_clock  # the CLI runs in a subprocess, on the real clock
def test_terminal_shows_the_status_and_the_time_so_far(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    org.scenario = Scenario(pending=0.3, duration=3.0)
    command, env = _command(org, project)
    returncode, stdout, stderr = run_with_stderr_on_terminal(command, env)
    assert returncode == 0
    assert re.search(r"Version request 08c000000000001AAA: Verifying\w+ \(0m 0\ds\)", stderr), stderr
    assert stdout.startswith("Package version request 08c000000000001AAA: Success\n")
    assert "\x1b" not in stdout
