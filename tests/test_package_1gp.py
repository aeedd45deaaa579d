"""1GP: apexgen deploy --package-name adds the deployed components to the packaging org's package (package.xml
<fullName>, as `sf project convert source --package-name` writes it), and package upload refuses an empty
package, against the fake org."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from apexgen.cli import main
from apexgen.convert.project import deploy_zip
from apexgen.salesforce import METADATA_NAMESPACE
from tests.fakes.clock import clock_for
from tests.fakes.org import FakeOrg, running_org, write_sample_project
from tests.test_deploy import deploy, no_traceback

PACKAGING_ORG_PACKAGE = {"Id": "033000000000001AAA", "Name": "Acme AI", "NamespacePrefix": "acmeai"}


@pytest.fixture
def org(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrg]:
    monkeypatch.setattr("apexgen.deploy.deploy.run_pre_deploy_checks", lambda root, checks: [])
    with running_org(FakeOrg(clock_for(request, monkeypatch))) as (fake, server):
        fake.ca_bundle = server.ca_bundle  # type: ignore[attr-defined]
        fake.metadata_packages[PACKAGING_ORG_PACKAGE["Id"]] = dict(PACKAGING_ORG_PACKAGE)
        yield fake
    assert fake.protocol_errors == []
    assert all(not d.zip_problems for d in fake.deploys.values())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_sample_project(tmp_path / "project")


def test_package_name_puts_full_name_in_package_xml_where_sf_writes_it(project: Path) -> None:
    manifest = deploy_zip(project, package_name="Acme AI & Co").package_xml
    lines = manifest.splitlines()
    # `sf project convert source --package-name` (SDR 12.37.2) writes it after <version>, out of the XSD's
    # order, which the Metadata API accepts.
    assert lines[-3:] == [
        "    <version>63.0</version>",
        "    <fullName>Acme AI &amp; Co</fullName>",
        "</Package>",
    ]
    assert etree.fromstring(manifest.encode()).findtext(f"{{{METADATA_NAMESPACE}}}fullName") == "Acme AI & Co"
    assert "<fullName>" not in deploy_zip(project).package_xml


def test_deploy_with_package_name_adds_the_components_to_the_package(org: FakeOrg, project: Path) -> None:
    result = deploy(org, project, "--package-name", "Acme AI", "--test-level", "NoTestRun")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert "components (added to package Acme AI), NoTestRun" in result.stderr
    members = org.metadata_packages[PACKAGING_ORG_PACKAGE["Id"]]["Members"]
    assert ("ApexClass", "FooService") in members and ("ApexClass", "FooServiceTest") in members


def test_a_deploy_without_package_name_adds_nothing(org: FakeOrg, project: Path) -> None:
    assert deploy(org, project, "--test-level", "NoTestRun").exit_code == 0
    assert "Members" not in org.metadata_packages[PACKAGING_ORG_PACKAGE["Id"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--package-name", " "], "error: --package-name: name the packaging org's package"),
        (
            ["--package-name", "Acme AI", "--resume", "0Af000000000001AAA"],
            "error: --package-name: cannot be combined with --resume",
        ),
    ],
)
def test_bad_package_name_flags_exit_2_before_the_org_is_called(
    org: FakeOrg, project: Path, args: list[str], message: str
) -> None:
    result = deploy(org, project, *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert org.calls == []


def upload(org: FakeOrg, project: Path, *args: str) -> Result:
    environment = {"REQUESTS_CA_BUNDLE": org.ca_bundle, "SF_ACCESS_TOKEN": org.access_token}  # type: ignore[attr-defined]
    return CliRunner().invoke(
        main,
        ["package", "upload", "--project-dir", str(project), "--instance-url", org.url, "--name", "Spring", *args],
        env=environment,
    )


def test_an_empty_package_is_not_uploaded_and_the_deploy_that_fills_it_is_named(org: FakeOrg, project: Path) -> None:
    result = upload(org, project, "--package-id", PACKAGING_ORG_PACKAGE["Id"])
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: package 'Acme AI' of the packaging org has no components, so the upload would ship nothing; "
        'deploy them into it first: apexgen deploy --package-name "Acme AI"'
    )
    assert org.uploads == {}
    assert org.retrieves == {"09S000000000001AAA": ["Acme AI"]}


def test_deploy_with_package_name_then_upload_ships_the_components(org: FakeOrg, project: Path) -> None:
    assert deploy(org, project, "--package-name", "Acme AI", "--test-level", "NoTestRun").exit_code == 0
    result = upload(org, project, "--package-id", PACKAGING_ORG_PACKAGE["Id"])
    assert result.exit_code == 0, result.output
    count = deploy_zip(project).component_count
    assert (
        f"Package upload 0HD000000000001AAA started: 'Spring' of Acme AI (033000000000001AAA, {count} components)"
        in (result.stderr)
    )
