"""Managed 2GP versions after the first release, against the fake Dev Hub: the ancestor as sf resolves and checks
it (ancestorId, ancestorVersion, HIGHEST, NONE, --skip-ancestor-check), with sf's messages, and the Dev Hub's
own refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.fakes.org import FakeOrg, write_sample_project
from tests.test_package import SF_PROJECT, created_package, new_version, no_traceback, package, packaging_org

SKIP_HINT = "You can also specify --skip-ancestor-check to override the ancestry requirement."


@pytest.fixture
def org(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrg]:
    yield from packaging_org(request, monkeypatch)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr("apexgen.deploy.deploy.run_pre_deploy_checks", lambda root, checks: [])
    root = write_sample_project(tmp_path / "project")
    (root / "sfdx-project.json").write_text(SF_PROJECT)
    return root


def set_directory(project: Path, **keys: object) -> None:
    """Set (or, with None, remove) keys of the package directory in sfdx-project.json."""
    path = project / "sfdx-project.json"
    data = json.loads(path.read_text())
    entry = data["packageDirectories"][0]
    for key, value in keys.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    path.write_text(json.dumps(data, indent=2) + "\n")


def released(org: FakeOrg, project: Path, number: str, **ancestor: str) -> Result:
    """Build version ``number`` (M.m.p) with ``ancestor`` keys, then promote it."""
    set_directory(
        project, **{"versionNumber": f"{number}.NEXT", "ancestorId": None, "ancestorVersion": None, **ancestor}
    )
    result = new_version(org, project)
    assert result.exit_code == 0, result.output
    alias = result.stdout.split("(alias ")[1].split(")")[0]
    assert package(org, project, "version", "promote", alias).exit_code == 0
    return result


def error_line(result: Result) -> str:
    """The error, after the "Connected to" line."""
    return result.stderr.strip().splitlines()[-1]


def version_of(org: FakeOrg, number: tuple[int, int, int]) -> dict:
    return next(
        v for v in org.package_versions.values() if (v["MajorVersion"], v["MinorVersion"], v["PatchVersion"]) == number
    )


def last_descriptor(org: FakeOrg) -> dict:
    return list(org.version_requests.values())[-1].descriptor


def test_the_second_managed_version_descends_from_the_first_promoted_one(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    first = released(org, project, "1.0.0")
    assert "(ancestor" not in first.stderr
    assert last_descriptor(org)["ancestorId"] == ""  # sf always sends the key: "" for the first version
    first_version = version_of(org, (1, 0, 0))
    assert first_version["IsReleased"] is True

    set_directory(project, versionNumber="1.1.0.NEXT", ancestorVersion="1.0.0")
    second = new_version(org, project)
    no_traceback(second)
    assert second.exit_code == 0, second.output
    assert "Package version request 08c000000000002AAA started: AcmeAI 1.1.0.NEXT (ancestor 1.0.0), " in second.stderr
    assert "Version: AcmeAI 1.1.0-1 (alias AcmeAI@1.1.0-1)" in second.stdout
    descriptor = last_descriptor(org)
    assert descriptor["ancestorId"] == first_version["Id"]
    assert "ancestorVersion" not in descriptor  # sf resolves it into ancestorId
    assert version_of(org, (1, 1, 0))["AncestorId"] == first_version["Id"]


@pytest.mark.parametrize(
    "ancestor",
    [
        {"ancestorId": "AcmeAI@1.0.0-1"},  # an alias of the 04t
        {"ancestorId": "04t000000000001AAA"},
        {"ancestorId": "05i000000000001AAA"},
        {"ancestorVersion": "1.0.0.NEXT"},
        {"ancestorVersion": "HIGHEST"},
        {"ancestorId": "HIGHEST", "ancestorVersion": "HIGHEST"},
    ],
)
def test_every_way_of_naming_the_ancestor_resolves_to_its_05i(org: FakeOrg, project: Path, ancestor: dict) -> None:
    created_package(org, project)
    released(org, project, "1.0.0")
    set_directory(project, versionNumber="2.0.0.NEXT", **ancestor)
    result = new_version(org, project)
    assert result.exit_code == 0, result.output
    assert last_descriptor(org)["ancestorId"] == "05i000000000001AAA"


def test_an_ancestor_that_is_not_the_highest_released_is_refused_with_sfs_message(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    released(org, project, "1.0.0")
    released(org, project, "1.1.0", ancestorVersion="1.0.0")
    requests = len(org.version_requests)
    set_directory(project, versionNumber="1.2.0.NEXT", ancestorVersion="1.0.0")
    result = new_version(org, project)
    no_traceback(result)
    assert result.exit_code == 2
    assert error_line(result) == (
        "error: sfdx-project.json: ancestorVersion of package directory 'force-app': Can’t create package version. "
        "The ancestor version [1.0.0] you specified isn’t the highest released package version. Set the ancestor "
        f"version to 1.1.0 and try creating the package version again. {SKIP_HINT}"
    )
    assert len(org.version_requests) == requests  # refused before anything was sent

    skipped = new_version(org, project, "--skip-ancestor-check")  # a branch of the ancestry tree, on purpose
    assert skipped.exit_code == 0, skipped.output
    assert last_descriptor(org)["ancestorId"] == version_of(org, (1, 0, 0))["Id"]


@pytest.mark.parametrize(
    ("ancestor", "message"),
    [
        (
            {},
            "ancestorId (not set) of package directory 'force-app': Can’t create package version. The ancestor version "
            f"[] you specified isn’t the highest released package version. Set the ancestor version to 1.0.0 and try "
            f"creating the package version again. {SKIP_HINT}",
        ),
        (
            {"ancestorVersion": "NONE"},
            "ancestorVersion of package directory 'force-app': Can’t create package version because you didn’t "
            "specify a package ancestor. Set the ancestor version to 1.0.0 and try creating the package version "
            f"again. {SKIP_HINT}",
        ),
        (
            {"ancestorVersion": "0.9.0"},
            "ancestorVersion of package directory 'force-app': No matching ancestor found for the given "
            "ancestorVersion (0.9.0) in package 0Ho000000000001AAA",
        ),
        (
            {"ancestorId": "AcmeAI@9.9.9-9"},
            "ancestorId of package directory 'force-app': The Subscriber Package Version Id or Package Version Id: "
            "AcmeAI@9.9.9-9 isn't defined in the sfdx-project.json. Add it to the packageDirectories section and add "
            "the alias to packageAliases with its 04t or 05i ID.",
        ),
        (
            {"ancestorId": "04t000000000009AAA"},
            "ancestorId of package directory 'force-app': The Subscriber Package Version Id 04t000000000009AAA is "
            "invalid, as a corresponding Package Version Id was not found",
        ),
        (
            {"ancestorId": "04t000000000001AAA", "ancestorVersion": "1.1.0"},
            "ancestorVersion of package directory 'force-app': The given ancestor version (1.1.0) has not been "
            "released",
        ),
    ],
)
def test_what_sf_refuses_after_a_release_is_refused_in_its_words(
    org: FakeOrg, project: Path, ancestor: dict, message: str
) -> None:
    created_package(org, project)
    released(org, project, "1.0.0")
    set_directory(project, versionNumber="1.1.0.NEXT")
    assert new_version(org, project, "--skip-ancestor-check").exit_code == 0  # 1.1.0-1, not released
    set_directory(project, versionNumber="2.0.0.NEXT", **ancestor)
    result = new_version(org, project)
    no_traceback(result)
    assert result.exit_code == 2, result.output
    assert error_line(result) == f"error: sfdx-project.json: {message}"


def test_none_and_highest_before_and_after_the_first_release(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    set_directory(project, ancestorVersion="HIGHEST")
    highest = new_version(org, project)
    assert highest.exit_code == 2
    assert error_line(highest) == (
        "error: sfdx-project.json: ancestorVersion of package directory 'force-app': No matching ancestor found "
        "for the given ancestorVersion (0.1.0.NEXT) in package 0Ho000000000001AAA"
    )
    set_directory(project, ancestorVersion="NONE")
    assert new_version(org, project).exit_code == 0  # nothing released yet: NONE is the truth
    assert last_descriptor(org)["ancestorId"] == ""
    released(org, project, "1.0.0")
    set_directory(project, versionNumber="2.0.0.NEXT", ancestorVersion="NONE")
    assert new_version(org, project).exit_code == 2
    skipped = new_version(org, project, "--skip-ancestor-check")  # a new ancestry tree, on purpose
    assert skipped.exit_code == 0, skipped.output
    assert last_descriptor(org)["ancestorId"] == ""


def test_a_deprecated_version_is_no_ancestor(org: FakeOrg, project: Path) -> None:
    """sf and the Dev Hub count only released versions that are not deprecated: a deprecated 1.1.0 is neither
    the HIGHEST ancestor nor the highest released one an explicit ancestor must equal."""
    created_package(org, project)
    released(org, project, "1.0.0")
    released(org, project, "1.1.0", ancestorVersion="1.0.0")
    version_of(org, (1, 1, 0))["IsDeprecated"] = True

    set_directory(project, versionNumber="1.2.0.NEXT", ancestorVersion="HIGHEST")
    highest = new_version(org, project)
    assert highest.exit_code == 0, highest.output
    assert last_descriptor(org)["ancestorId"] == version_of(org, (1, 0, 0))["Id"]

    set_directory(project, versionNumber="1.3.0.NEXT", ancestorVersion="1.0.0")
    explicit = new_version(org, project)
    assert explicit.exit_code == 0, explicit.output
    assert last_descriptor(org)["ancestorId"] == version_of(org, (1, 0, 0))["Id"]


def test_a_patch_descends_from_its_major_minor(org: FakeOrg, project: Path) -> None:
    for flow in project.rglob("*.flow-meta.xml"):  # a patch cannot contain Flows (test_package_surface)
        flow.unlink()
    created_package(org, project)
    released(org, project, "1.0.0")
    released(org, project, "1.1.0", ancestorVersion="HIGHEST")
    set_directory(project, versionNumber="1.0.1.NEXT", ancestorVersion="HIGHEST")
    result = new_version(org, project)
    assert result.exit_code == 0, result.output
    assert last_descriptor(org)["ancestorId"] == version_of(org, (1, 0, 0))["Id"]
    set_directory(project, versionNumber="3.0.1.NEXT", ancestorVersion="HIGHEST")
    missing = new_version(org, project)
    assert missing.exit_code == 2
    assert "No matching major.minor version found for the given patch version (3.0.0)" in missing.stderr


@pytest.mark.parametrize(
    ("ancestor", "message"),
    [
        (
            {"ancestorId": "HIGHEST", "ancestorVersion": "1.0.0"},
            "ancestorId of package directory 'force-app': Both ancestorId (HIGHEST) and ancestorVersion (1.0.0) "
            "specified, HIGHEST and/or NONE are used, the values disagree",
        ),
        (
            {"ancestorVersion": "1.x"},
            "ancestorVersion of package directory 'force-app': The given ancestorVersion (1.x) is not in the correct "
            "format",
        ),
    ],
)
def test_bad_ancestor_values_exit_2_before_the_org_is_called(
    org: FakeOrg, project: Path, ancestor: dict, message: str
) -> None:
    created_package(org, project)
    calls = len(org.calls)
    set_directory(project, **ancestor)
    result = new_version(org, project)
    assert result.exit_code == 2
    assert error_line(result) == f"error: sfdx-project.json: {message}"
    assert len(org.calls) == calls


def test_an_unlocked_package_has_no_ancestor(org: FakeOrg, project: Path) -> None:
    assert package(org, project, "create", "--name", "AcmeAI", "--type", "Unlocked").exit_code == 0
    set_directory(project, ancestorVersion="HIGHEST")
    result = new_version(org, project)
    assert result.exit_code == 2
    assert error_line(result) == (
        "error: sfdx-project.json: ancestorVersion of package directory 'force-app': Can’t create package version. "
        "Specifying an ancestor is available only for second-generation managed packages. Remove the ancestorId or "
        "ancestorVersion from your sfdx-project.json file, and then create the package version again."
    )
    set_directory(project, ancestorVersion=None)
    assert new_version(org, project).exit_code == 0
    assert last_descriptor(org)["ancestorId"] == ""


def test_the_dev_hub_refuses_an_ancestor_that_is_not_below_the_new_version(org: FakeOrg, project: Path) -> None:
    """--skip-ancestor-check lifts sf's checks, not the Dev Hub's: the request ends in Error with its message."""
    created_package(org, project)
    released(org, project, "2.0.0")
    set_directory(project, versionNumber="1.5.0.NEXT", ancestorVersion="2.0.0")
    result = new_version(org, project, "--skip-ancestor-check")
    no_traceback(result)
    assert result.exit_code == 1
    assert "Package version request 08c000000000002AAA: Error" in result.stdout
    assert "  The version number must be higher than its ancestor's (2.0.0)." in result.stdout


def test_the_dev_hub_refuses_a_new_build_of_a_released_version_number(org: FakeOrg, project: Path) -> None:
    created_package(org, project)
    released(org, project, "1.0.0")
    result = new_version(org, project, "--skip-ancestor-check")  # still 1.0.0.NEXT
    assert result.exit_code == 1
    assert "  Version 1.0.0 is already released; increment the version number." in result.stdout
