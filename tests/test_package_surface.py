"""The released surface of a managed package, against the fake Dev Hub and packaging org: promote and a released
upload record it in .apexgen/released/<M.m.p>.json; version create and upload refuse a version that drops or changes
a recorded global member, @api property or target (each named), or descends from a version with no record; additions
pass; a patch version with Flows is refused before it is sent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from apexgen.packaging.surface import apex_globals, read_surface, surface_changes
from tests.conftest import Cli
from tests.fakes.org import FakeOrg
from tests.test_golden import CASES
from tests.test_package import created_package, new_version, no_traceback, package, packaging_org
from tests.test_package_ancestry import set_directory

CLASSES = "force-app/main/default/classes"
BUNDLE = "force-app/main/default/lwc/summarize"


@pytest.fixture
def org(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrg]:
    monkeypatch.setattr("apexgen.deploy.deploy.run_pre_deploy_checks", lambda root, checks: [])
    for fake in packaging_org(request, monkeypatch):
        fake.metadata_packages["033000000000001AAA"] = {
            "Id": "033000000000001AAA",
            "Name": "Acme AI",
            "NamespacePrefix": "acmeai",
            "Members": {("ApexClass", "SummarizeAction")},
        }
        yield fake


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """apexgen init --namespace, then the namespaced case with its chat component also on Flow screens (so it has
    @api properties), generated."""
    cli, root = Cli(), tmp_path / "acme"
    assert cli("init", str(root), "--namespace", "acmeai").exit_code == 0
    spec = (CASES / "namespaced" / "apexgen.toml").read_text()
    spec = spec.replace('feedback = "Rate"', 'feedback = "Rate"\nlwc_targets = ["app_page", "flow_screen"]')
    (root / "apexgen.toml").write_text(spec)
    assert cli("generate", cwd=root).exit_code == 0
    return root


def release_first_version(org: FakeOrg, project: Path) -> dict:
    """Package create, version 0.1.0 built and promoted; the recorded surface file."""
    created_package(org, project)
    built = new_version(org, project)
    assert built.exit_code == 0, built.output
    assert list((project / ".apexgen/built").iterdir()) == [project / ".apexgen/built/04t000000000001AAA.json"]
    promoted = package(org, project, "version", "promote", "AcmeAI@0.1.0-1")
    assert promoted.exit_code == 0, promoted.output
    assert (
        "Recorded the released surface, as it was built, in .apexgen/released/0.1.0.json: commit it with the project"
        in promoted.stderr
    )
    assert not (project / ".apexgen/built/04t000000000001AAA.json").exists()
    set_directory(project, versionNumber="0.2.0.NEXT", ancestorVersion="HIGHEST")
    return json.loads((project / ".apexgen/released/0.1.0.json").read_text())


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_promote_records_the_global_surface_api_properties_and_targets(org: FakeOrg, project: Path) -> None:
    recorded = release_first_version(org, project)

    assert recorded["version"] == "0.1.0"
    assert recorded["subscriberPackageVersionId"] == "04t000000000001AAA"
    assert recorded["apex"]["SummarizeAction.run(List<Request>)"] == (
        "global static List<Result> run(List<Request> requests)"
    )
    assert recorded["apex"]["SummarizeAction.Request.text"] == "global String text"
    assert {key.split(".")[0] for key in recorded["apex"]} == {"RateAction", "SimilarAction", "SummarizeAction"}
    assert recorded["components"]["summarize"] == {
        "api": ["answerText", "availableActions", "text", "validate"],
        "targets": ["lightning__AppPage", "lightning__FlowScreen"],
    }


def test_a_version_that_drops_or_changes_a_released_member_is_refused_naming_each(org: FakeOrg, project: Path) -> None:
    release_first_version(org, project)
    edit(project / CLASSES / "SummarizeAction.cls", "        global String finishReason;\n", "")
    edit(project / CLASSES / "SimilarAction.cls", "global Double similarity;", "global Decimal similarity;")
    edit(project / BUNDLE / "summarize.js", "    @api\n    get text()", "    get text()")
    edit(project / BUNDLE / "summarize.js-meta.xml", "<target>lightning__FlowScreen</target>", "")
    requests = len(org.version_requests)

    result = new_version(org, project)

    no_traceback(result)
    assert result.exit_code == 2, result.output
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(
        "error: version 0.2.0.NEXT drops or changes what released version 0.1.0 made public, which a managed "
        "package can never take back (4): "
    )
    for change in (
        "global SimilarAction.Result.similarity changed: released as: global Double similarity; now: global "
        "Decimal similarity",
        "global SummarizeAction.Result.finishReason was removed (released as: global String finishReason)",
        "component summarize: @api text was removed",
        "component summarize: target lightning__FlowScreen was removed",
    ):
        assert change in error
    assert len(org.version_requests) == requests  # nothing sent


def test_a_version_that_adds_members_is_accepted(org: FakeOrg, project: Path) -> None:
    release_first_version(org, project)
    spec = project / "apexgen.toml"
    spec.write_text(
        spec.read_text()
        + '\n[[prompt]]\nname = "Translate"\ncapability = "generate"\nmodel = "fast"\n'
        + 'template = "Translate {text}"\ninputs = [{ name = "text" }]\nexpose = ["flow"]\n'
    )
    assert Cli()("generate", cwd=project).exit_code == 0
    edit(
        project / "apexgen.toml",
        'lwc_targets = ["app_page", "flow_screen"]',
        'lwc_targets = ["app_page", "flow_screen", "home_page"]',
    )
    assert Cli()("generate", cwd=project).exit_code == 0

    result = new_version(org, project)

    assert result.exit_code == 0, result.output
    assert "version 0.2.0.NEXT keeps what 0.1.0 released (.apexgen/released/0.1.0.json)" in result.stderr
    assert (
        "TranslateAction.run(List<Request>)"
        in json.loads((project / ".apexgen/built/04t000000000002AAA.json").read_text())["apex"]
    )


def test_an_ancestor_with_no_recorded_surface_is_refused_naming_it(org: FakeOrg, project: Path) -> None:
    release_first_version(org, project)
    (project / ".apexgen/released/0.1.0.json").unlink()
    requests = len(org.version_requests)

    result = new_version(org, project)

    assert result.exit_code == 2, result.output
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "error: .apexgen/released/0.1.0.json: version 0.2.0.NEXT descends from released version 0.1.0, whose "
            "surface is not recorded"
        )
    )
    assert len(org.version_requests) == requests
    recorded = Cli()("package", "surface", "--record", "0.1.0", "--project-dir", str(project))  # on purpose
    assert recorded.exit_code == 0, recorded.output
    assert new_version(org, project).exit_code == 0


def test_a_patch_version_with_flows_is_refused_before_it_is_sent(org: FakeOrg, project: Path) -> None:
    release_first_version(org, project)
    set_directory(project, versionNumber="0.1.1.NEXT")
    requests = len(org.version_requests)

    result = new_version(org, project)

    assert result.exit_code == 2, result.output
    assert (
        "error: version 0.1.1.NEXT: a patch version of a managed package cannot contain Flows (Salesforce Help, "
        "flow_considerations_packaging), and package directory 'force-app' has 2 "
        "(main/default/flows/SummarizeFlow.flow-meta.xml, main/default/flows/SummarizeScreenFlow.flow-meta.xml)"
    ) in result.stderr
    assert len(org.version_requests) == requests


def test_a_released_upload_records_the_surface_and_the_next_upload_must_keep_it(org: FakeOrg, project: Path) -> None:
    released = package(org, project, "upload", "--name", "One", "--release", "--version", "1.0")
    assert released.exit_code == 0, released.output
    assert "in .apexgen/released/1.0.0.json: commit it with the project" in released.stderr
    assert json.loads((project / ".apexgen/released/1.0.0.json").read_text())["components"]["summarize"]["api"] == [
        "answerText",
        "availableActions",
        "text",
        "validate",
    ]
    edit(project / BUNDLE / "summarize.js-meta.xml", "<target>lightning__AppPage</target>", "")
    uploads = len(org.uploads)

    refused = package(org, project, "upload", "--name", "Two", "--version", "1.1")

    assert refused.exit_code == 2, refused.output
    assert "component summarize: target lightning__AppPage was removed" in refused.stderr
    assert len(org.uploads) == uploads


def test_the_scanner_reads_globals_through_comments_strings_wrapping_and_nesting() -> None:
    source = """
    /** global class NotThis {} */
    global with sharing class Outer {
        // global String notThis;
        global static final String LABEL = 'global String notThis; {';
        @InvocableMethod(label='x')
        global static List<Result> run(
            List<Request> requests
        ) {
            if (true) { String s = '}'; }
            return null;
        }
        public class Hidden { global String notGlobalReachable; }
        global class Result {
            @InvocableVariable
            global Map<String, Double> scores = new Map<String, Double>();
        }
    }
    """
    assert apex_globals(source) == {
        "Outer": "global with sharing class Outer",
        "Outer.LABEL": "global static final String LABEL",
        "Outer.run(List<Request>)": "global static List<Result> run(List<Request> requests)",
        "Outer.Hidden.notGlobalReachable": "global String notGlobalReachable",
        "Outer.Result": "global class Result",
        "Outer.Result.scores": "global Map<String, Double> scores",
    }


def test_surface_changes_allow_additions(project: Path) -> None:
    before = read_surface(project / "force-app")
    after = read_surface(project / "force-app")
    after.apex["SummarizeAction.Result.extra"] = "global String extra"
    after.components["summarize"]["api"].append("zeta")
    assert surface_changes(before, after) == []
    assert re.search(r"was removed", "; ".join(surface_changes(after, before)))
