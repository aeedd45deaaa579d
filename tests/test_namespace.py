"""Managed packages: with a namespace, the entry points subscribers use are global; without, nothing is."""

from __future__ import annotations

import re

from apexgen.generate.plan import render_plan
from apexgen.spec.load import load_spec
from tests.conftest import REPO, write_spec
from tests.test_golden import CASES


def global_declarations(spec_path) -> dict[str, list[str]]:
    """class name -> its lines that declare something global."""
    found = {}
    for planned in render_plan(load_spec(spec_path)):
        if planned.path.endswith(".cls"):
            lines = [line.strip() for line in planned.content.splitlines() if re.match(r"\s*global ", line)]
            if lines:
                found[planned.path.rsplit("/", 1)[1][:-4]] = lines
    return found


def test_only_flow_actions_and_their_request_and_result_are_global():
    """Subscribers' Flows call invocable actions; the package's own components call their controllers from
    inside the namespace, so public @AuraEnabled is enough. A released global can never be removed."""
    declared = global_declarations(CASES / "namespaced" / "apexgen.toml")

    assert sorted(declared) == ["RateAction", "SimilarAction", "SummarizeAction"]
    action = declared["SummarizeAction"]
    assert action == [
        "global with sharing class SummarizeAction {",
        "global static List<Result> run(List<Request> requests) {",
        "global class Request {",
        "global String text;",
        "global class Result {",
        "global Boolean isSuccess;",
        "global String text;",
        "global String textHtml;",
        "global String generationId;",
        "global Boolean toxicityDetected;",
        "global Double toxicityScore;",
        "global Integer totalTokens;",
        "global Integer promptTokens;",
        "global Integer completionTokens;",
        "global String finishReason;",
        "global String errorMessage;",
        "global Integer responseCode;",
    ]


def test_controllers_and_shared_types_stay_public_with_aura_enabled_members():
    from apexgen.generate.plan import render_plan

    sources = {
        f.path.rsplit("/", 1)[1]: f.content
        for f in render_plan(load_spec(CASES / "namespaced" / "apexgen.toml"))
        if f.path.endswith(".cls")
    }
    assert "public with sharing class SummarizeController {" in sources["SummarizeController.cls"]
    assert "    @AuraEnabled\n    public static AcmeGeneration chat(" in sources["SummarizeController.cls"]
    assert "    @AuraEnabled\n    public String generationId;" in sources["AcmeGeneration.cls"]
    assert "public with sharing class AcmeChatMessage {" in sources["AcmeChatMessage.cls"]
    assert "AvoidGlobalModifier" not in sources["AcmeGeneration.cls"] + sources["SummarizeController.cls"]


def test_services_and_the_client_stay_public():
    declared = global_declarations(CASES / "namespaced" / "apexgen.toml")
    assert not [name for name in declared if name.endswith(("Service", "Client", "Test", "Stub", "Exception"))]


def test_without_namespace_nothing_is_global():
    assert global_declarations(REPO / "apexgen.toml") == {}


def test_spec_and_project_file_must_agree_on_the_namespace(tmp_path, cli):
    root = tmp_path / "p"
    assert cli("init", str(root), "--namespace", "acme").exit_code == 0
    assert '"namespace": "acme"' in (root / "sfdx-project.json").read_text()
    assert 'namespace = "acme"' in (root / "apexgen.toml").read_text()
    spec = root / "apexgen.toml"
    write_spec(root, spec.read_text().replace('namespace = "acme"', 'namespace = "other"'))

    result = cli("generate", cwd=root)

    assert result.exit_code == 2
    assert "project.namespace: is 'other' but sfdx-project.json has namespace 'acme'" in result.output
    assert not (root / "force-app").exists()


def test_init_rejects_a_bad_namespace(tmp_path, cli):
    result = cli("init", str(tmp_path / "p"), "--namespace", "acme__x")
    assert result.exit_code == 2
    assert "--namespace: 'acme__x'" in result.output


def test_generate_outside_an_sfdx_project_says_so(tmp_path, cli):
    write_spec(tmp_path, (REPO / "apexgen.toml").read_text())
    result = cli("generate", cwd=tmp_path)
    assert result.exit_code == 2
    assert "sfdx-project.json: not found" in result.output
