"""apexgen deploy against the wire-level fake org: what the user sees (text, JSON, JUnit, Cobertura) and exit codes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from apexgen.check.findings import Finding
from apexgen.cli import main
from tests.fakes.clock import clock_for
from tests.fakes.org import FakeOrg, Scenario, running_org, write_sample_project


@pytest.fixture
def org(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrg]:
    with running_org(FakeOrg(clock_for(request, monkeypatch))) as (fake, server):
        fake.ca_bundle = server.ca_bundle  # type: ignore[attr-defined]
        yield fake
    assert fake.protocol_errors == [], "the fake org received or sent SOAP that breaks the WSDL's XSD"
    assert all(not d.zip_problems for d in fake.deploys.values()), "a deploy zip did not match its package.xml"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_sample_project(tmp_path / "project")


@pytest.fixture(autouse=True)
def checks_pass(monkeypatch: pytest.MonkeyPatch) -> list:
    """The offline checks are stubbed here; test_pre_deploy_checks_* test the real selection of checks."""
    calls: list = []

    def run_checks(root: Path, checks: str) -> list:
        calls.append((root, checks))
        return []

    monkeypatch.setattr("apexgen.deploy.deploy.run_pre_deploy_checks", run_checks)
    return calls


def deploy(org: FakeOrg, project: Path, *args: str, env: dict | None = None) -> Result:
    environment = {"REQUESTS_CA_BUNDLE": org.ca_bundle, "SF_ACCESS_TOKEN": org.access_token}  # type: ignore[attr-defined]
    environment.update(env or {})
    login = [] if any(a in args for a in ("--username", "--client-id", "--target-org")) else ["--instance-url", org.url]
    return CliRunner().invoke(main, ["deploy", "--project-dir", str(project), *login, *args], env=environment)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_success_reports_components_tests_and_coverage(org: FakeOrg, project: Path, tmp_path: Path) -> None:
    junit, coverage = tmp_path / "junit.xml", tmp_path / "coverage.xml"
    result = deploy(org, project, "--junit", str(junit), "--coverage", str(coverage))
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Deploy 0Af000000000001AAA: Succeeded\n")
    assert "Components: 4 of 4 deployed, 0 error(s)" in result.stdout
    assert "Tests: 2 run, 0 failed" in result.stdout
    assert re.search(r"FooService\s+90\.0%\s+9/10 lines\s+uncovered lines 9\n", result.stdout)
    assert re.search(r"total\s+90\.0%\s+9/10 lines\s+meets 75%", result.stdout)
    assert "Deploy 0Af000000000001AAA started: 4 components, RunSpecifiedTests, tests: FooServiceTest" in result.stderr
    deployed = org.deploys["0Af000000000001AAA"]
    assert [m.name for m in deployed.members] == ["FooService", "FooServiceTest", "Greeting_Flow", "fooCard"]
    assert deployed.test_level == "RunSpecifiedTests" and not deployed.check_only

    from junitparser import JUnitXml

    suites = list(JUnitXml.fromfile(str(junit)))
    assert [(s.name, s.tests, s.failures) for s in suites] == [("FooServiceTest", 2, 0)]
    from pycobertura import Cobertura

    report = Cobertura(str(coverage))
    assert report.line_rate() == pytest.approx(0.9)
    assert report.missed_lines("force-app/main/default/classes/FooService.cls") == [(9, "miss")]


def test_failing_deploy_shows_component_error_test_failure_and_low_coverage(
    org: FakeOrg, project: Path, tmp_path: Path
) -> None:
    org.scenario = Scenario(outcome="failing")
    junit = tmp_path / "junit.xml"
    result = deploy(org, project, "--junit", str(junit))
    no_traceback(result)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "Deploy 0Af000000000001AAA: Failed"
    assert "  force-app/main/default/classes/FooService.cls:12:16 Variable does not exist: totl" in lines
    assert "  FAIL FooServiceTest.greetsByName (0.052 s)" in lines
    assert "       System.AssertException: Assertion Failed: Expected: hi, Actual: hello" in lines
    assert "       at Class.FooServiceTest.greetsByName: line 5, column 1" in lines
    assert "       force-app/main/default/classes/FooServiceTest.cls:5:1" in lines
    assert any(
        re.fullmatch(r"  FooService\s+60\.0%\s+6/10 lines\s+uncovered lines 7-10\s+below 75%", line) for line in lines
    )
    assert any(line.startswith("  warning: Average test coverage across all Apex Classes") for line in lines)

    from junitparser import Failure, JUnitXml

    case = next(c for s in JUnitXml.fromfile(str(junit)) for c in s if c.name == "greetsByName")
    failure = case.result[0]
    assert isinstance(failure, Failure)
    assert failure.message == "System.AssertException: Assertion Failed: Expected: hi, Actual: hello"
    assert "Class.FooServiceTest.greetsByName: line 5, column 1" in failure.text


def test_component_failure_alone(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(outcome="component_failure")
    result = deploy(org, project, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)["result"]
    assert document["status"] == "Failed" and document["success"] is False
    assert document["components"]["failures"] == [
        {
            "file": "force-app/main/default/classes/FooService.cls",
            "metadataFile": "classes/FooService.cls",
            "type": "ApexClass",
            "name": "FooService",
            "line": 12,
            "column": 16,
            "problem": "Variable does not exist: totl",
            "problemType": "Error",
        }
    ]
    assert document["tests"]["run"] == 0


def test_test_failure_alone(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(outcome="test_failure")
    result = deploy(org, project)
    assert result.exit_code == 1
    assert "Components: 4 of 4 deployed, 0 error(s)" in result.stdout
    assert "Tests: 2 run, 1 failed" in result.stdout
    assert "FAIL FooServiceTest.greetsByName" in result.stdout


def test_coverage_under_75_percent_fails_the_deploy(org: FakeOrg, project: Path, tmp_path: Path) -> None:
    org.scenario = Scenario(outcome="low_coverage")
    coverage = tmp_path / "coverage.xml"
    result = deploy(org, project, "--json", "--coverage", str(coverage))
    assert result.exit_code == 1
    document = json.loads(result.stdout)["result"]
    assert document["tests"]["failed"] == 0 and document["components"]["errors"] == 0
    assert document["coverage"]["totalPercent"] == 60.0
    assert document["coverage"]["classes"][0]["meetsRequirement"] is False
    assert document["coverage"]["warnings"][0].startswith("Average test coverage across all Apex Classes")
    from pycobertura import Cobertura

    assert Cobertura(str(coverage)).line_rate() == pytest.approx(0.6)


def test_long_run_polls_at_most_once_a_second(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(duration=4.0, pending=0.5)
    result = deploy(org, project)
    assert result.exit_code == 0
    polls = [t for t, name in org.calls if name == "checkDeployStatus"]
    assert 4 <= len(polls) <= 6, polls
    assert all(b - a >= 0.45 for a, b in pairwise(polls))


def test_wait_that_runs_out_says_so_and_exits_non_zero(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(duration=30.0)
    result = deploy(org, project, "--wait", "2s")
    assert result.exit_code == 1
    assert "error: the wait of 2 s ran out; 0Af000000000001AAA is still InProgress in the org" in result.stderr
    assert "apexgen deploy --resume 0Af000000000001AAA" in result.stderr


def test_wait_zero_returns_the_id_and_resume_reports_it(org: FakeOrg, project: Path) -> None:
    started = deploy(org, project, "--wait", "0")
    assert started.exit_code == 0
    assert started.stdout == "0Af000000000001AAA\n"
    resumed = deploy(org, project, "--resume", "0Af000000000001AAA")
    assert resumed.exit_code == 0
    assert resumed.stdout.startswith("Deploy 0Af000000000001AAA: Succeeded")
    assert org.call_count("deploy") == 1


def test_deploy_canceled_in_the_org(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(outcome="canceled")
    result = deploy(org, project)
    assert result.exit_code == 1
    assert result.stdout.startswith("Deploy 0Af000000000001AAA: Canceled by Admin User")


def test_cancel_asks_the_org_and_waits_for_canceled(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(duration=30.0)
    assert deploy(org, project, "--wait", "0").exit_code == 0
    result = deploy(org, project, "--cancel", "0Af000000000001AAA")
    assert result.exit_code == 0, result.output
    assert "Cancel requested for 0Af000000000001AAA" in result.stderr
    assert result.stdout.startswith("Deploy 0Af000000000001AAA: Canceled")
    assert org.call_count("cancelDeploy") == 1


def test_validate_then_quick_deploy(org: FakeOrg, project: Path) -> None:
    validation = deploy(org, project, "--validate")
    assert validation.exit_code == 0
    assert validation.stdout.startswith("Validation 0Af000000000001AAA: Succeeded")
    assert org.deploys["0Af000000000001AAA"].check_only
    assert (
        "Deploy this validation without running tests again: apexgen deploy --quick 0Af000000000001AAA"
        in validation.stderr
    )
    quick = deploy(org, project, "--quick", "0Af000000000001AAA")
    assert quick.exit_code == 0, quick.output
    assert "Quick deploy 0Af000000000002AAA of validation 0Af000000000001AAA started" in quick.stderr
    assert quick.stdout.startswith("Deploy 0Af000000000002AAA: Succeeded")
    assert org.call_count("deploy") == 1 and org.call_count("deployRecentValidation") == 1


@pytest.mark.parametrize("fault", ["500", "503", "drop"])
def test_status_call_failures_are_retried(org: FakeOrg, project: Path, fault: str) -> None:
    org.scenario = Scenario(duration=1.5, status_faults={1: fault, 2: fault})
    result = deploy(org, project)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Deploy 0Af000000000001AAA: Succeeded")
    assert org.call_count("deploy") == 1
    assert org.call_count("checkDeployStatus") >= 3


def test_slow_status_answer_times_out_and_is_retried(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(duration=0.5, status_faults={1: "slow"}, slow_seconds=3.0)
    result = deploy(org, project, "--http-timeout", "1")
    assert result.exit_code == 0, result.output
    assert org.call_count("checkDeployStatus") >= 2


def test_dropped_deploy_request_is_not_sent_again(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(deploy_fault="drop")
    result = deploy(org, project)
    no_traceback(result)
    assert result.exit_code == 4
    assert "deploy: the connection to the org failed or was dropped; the request was not re-sent" in result.stderr
    assert org.call_count("deploy") == 1


def test_session_expiry_mid_poll_logs_in_again(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(duration=2.0, status_faults={2: "expire"})
    env = {"SF_PASSWORD": org.password, "SF_SECURITY_TOKEN": org.security_token}
    result = deploy(org, project, "--username", org.username, "--login-url", org.url, env=env)
    assert result.exit_code == 0, result.output
    assert org.call_count("login") == 2
    assert result.stdout.startswith("Deploy 0Af000000000001AAA: Succeeded")


def test_session_expiry_with_an_access_token_stops_with_the_resume_command(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(duration=2.0, status_faults={2: "expire"})
    result = deploy(org, project)
    no_traceback(result)
    assert result.exit_code == 4
    assert "INVALID_SESSION_ID" in result.stderr
    assert "apexgen deploy --resume 0Af000000000001AAA" in result.stderr


def test_unknown_deploy_id(org: FakeOrg, project: Path) -> None:
    result = deploy(org, project, "--resume", "0Af000000000999AAA", "--json")
    no_traceback(result)
    assert result.exit_code == 2
    assert "Invalid deploy ID" in result.stderr
    document = json.loads(result.stdout)
    assert document["message"] == "checkDeployStatus: INVALID_ID_FIELD: Invalid deploy ID"
    assert document["exitCode"] == document["status"] == 2 and document["commandName"] == "deploy"
    assert document["data"] == {"id": "0Af000000000999AAA"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resume", "0Af1", "--cancel", "0Af2"], "error: --resume and --cancel cannot be combined"),
        (
            ["--validate", "--quick", "0Af1"],
            "error: --validate starts a new deploy; it cannot be combined with --quick",
        ),
        (
            ["--resume", "0Af1"],
            "error: --resume: '0Af1' is not a deploy id (18 letters and digits, such as 0Af5g00000ABCDEFGH)",
        ),
        (["--wait", "soon"], "error: --wait: 'soon' is not a duration such as 33 (minutes), 90s, 10m or 1h"),
        (["--skip-checks", "--deep-checks"], "error: --skip-checks and --deep-checks cannot be combined"),
        (
            ["--test-level", "RunLocalTests", "--tests", "FooServiceTest"],
            "error: --tests: names test classes for --test-level RunSpecifiedTests, not RunLocalTests",
        ),
    ],
)
def test_bad_flags_are_one_line_usage_errors(org: FakeOrg, project: Path, args: list[str], message: str) -> None:
    result = deploy(org, project, *args)
    no_traceback(result)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert org.calls == []


def test_project_that_cannot_be_converted_stops_before_connecting(org: FakeOrg, project: Path) -> None:
    (project / "force-app/main/default/classes/FooService.cls-meta.xml").unlink()
    result = deploy(org, project)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: force-app/main/default/classes/FooService.cls: has no FooService.cls-meta.xml beside it; "
        "sf would leave it out without a word, the org needs it"
    )
    assert org.calls == []


def test_check_errors_stop_the_deploy(org: FakeOrg, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    finding = Finding(
        "force-app/main/default/classes/FooService.cls", 3, 9, "error", "apex-parser", "syntax", "missing ';'"
    )
    warning = Finding(
        "force-app/main/default/classes/FooService.cls", 1, 1, "warning", "pmd", "ApexDoc", "missing ApexDoc"
    )
    monkeypatch.setattr("apexgen.deploy.deploy.run_pre_deploy_checks", lambda root, checks: [finding, warning])
    result = deploy(org, project)
    assert result.exit_code == 1
    assert (
        "1 check error(s), nothing was deployed: force-app/main/default/classes/FooService.cls:3:9 error "
        "apex-parser syntax missing ';'"
    ) in result.stderr
    assert org.calls == []


def test_high_rule_findings_are_shown_the_others_counted_and_deep_checks_are_asked_for(
    org: FakeOrg, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    service = "force-app/main/default/classes/FooService.cls"
    findings = [
        Finding(service, 4, 31, "high", "pmd", "ApexSOQLInjection", "Avoid untrusted/unescaped variables"),
        *(Finding(service, line, 1, "low", "pmd", "ApexDoc", "missing ApexDoc") for line in range(1, 4)),
        Finding(service, 9, 1, "moderate", "apex-ls", "Missing", "may be a platform type"),
    ]
    monkeypatch.setattr(
        "apexgen.deploy.deploy.run_pre_deploy_checks", lambda root, checks: seen.append(checks) or findings
    )
    result = deploy(org, project, "--deep-checks")
    assert result.exit_code == 0
    assert seen == ["deep"]
    check_lines = [line for line in result.stderr.splitlines() if line.startswith("check: ")]
    assert check_lines == [
        f"check: {service}:4:31 high pmd ApexSOQLInjection Avoid untrusted/unescaped variables",
        "check: 1 moderate, 3 low rule finding(s) not shown: 'apexgen check' lists them",
    ]


def test_skip_checks_does_not_run_them(org: FakeOrg, project: Path, checks_pass: list) -> None:
    assert deploy(org, project, "--skip-checks").exit_code == 0
    assert checks_pass == []
    assert deploy(org, project).exit_code == 0
    assert [checks for _, checks in checks_pass] == ["auto"]


def test_pre_deploy_checks_are_deep_where_the_tools_are_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.undo()  # the real run_pre_deploy_checks, not the autouse seam
    from apexgen.deploy.deploy import run_pre_deploy_checks
    from apexgen.errors import ToolsMissingError

    asked = []

    def tools_installed(root, deep):
        asked.append(deep)
        return []

    def tools_missing(root, deep):
        asked.append(deep)
        if deep:
            raise ToolsMissingError("the deep check needs tools that are missing")
        return []

    monkeypatch.setattr("apexgen.deploy.deploy.run_checks", tools_installed)
    run_pre_deploy_checks(tmp_path, "auto")
    run_pre_deploy_checks(tmp_path, "fast")
    assert asked == [True, False]

    asked.clear()
    monkeypatch.setattr("apexgen.deploy.deploy.run_checks", tools_missing)
    run_pre_deploy_checks(tmp_path, "auto")
    assert asked == [True, False]  # no tools: the fast check still runs
    with pytest.raises(ToolsMissingError):
        run_pre_deploy_checks(tmp_path, "deep")  # asked for by --deep-checks: missing tools are an error


def test_json_is_one_document_on_stdout(org: FakeOrg, project: Path) -> None:
    result = deploy(org, project, "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)["result"]
    assert document["id"] == "0Af000000000001AAA" and document["status"] == "Succeeded"
    assert document["tests"]["results"][0]["outcome"] == "Pass"
    assert document["coverage"]["classes"][0]["file"] == "force-app/main/default/classes/FooService.cls"


def test_usage_error_with_json_is_still_one_json_document(org: FakeOrg, project: Path) -> None:
    result = deploy(org, project, "--json", "--wait", "soon")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["message"] == "--wait: 'soon' is not a duration such as 33 (minutes), 90s, 10m or 1h"
    assert document["name"] == "UsageError" and document["exitCode"] == 2 and "data" not in document


def test_the_fake_org_rejects_soap_that_breaks_the_xsd(org: FakeOrg) -> None:
    """The fake's own check can fail: DeployOptions out of XSD order (as simple-salesforce sends them)."""
    import requests

    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:met="http://soap.sforce.com/2006/04/metadata"><soapenv:Header><met:SessionHeader>'
        f"<met:sessionId>{org.access_token}</met:sessionId></met:SessionHeader></soapenv:Header><soapenv:Body>"
        "<met:checkDeployStatus><met:includeDetails>true</met:includeDetails>"
        "<met:asyncProcessId>0Af000000000001AAA</met:asyncProcessId></met:checkDeployStatus></soapenv:Body></soapenv:Envelope>"
    )
    requests.post(
        f"{org.url}/services/Soap/m/63.0",
        data=envelope,
        verify=org.ca_bundle,  # type: ignore[attr-defined]
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )
    assert len(org.protocol_errors) == 1 and "includeDetails" in org.protocol_errors[0]
    org.protocol_errors.clear()


def test_the_fake_org_fails_a_zip_that_does_not_match_its_package_xml(
    org: FakeOrg, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake's zip check can fail: a package.xml member whose files are missing from the zip."""
    from apexgen.convert import project as convert

    real = convert.package_xml
    monkeypatch.setattr(
        convert,
        "package_xml",
        lambda members, version, *name: real(
            {**members, "ApexClass": [*members["ApexClass"], "Missing"]}, version, *name
        ),
    )
    result = deploy(org, project)
    assert result.exit_code == 1
    assert (
        "  package.xml: An object 'Missing' of type ApexClass was named in package.xml, but was not found in zipped "
        "directory (classes/Missing.cls)\n"
    ) in result.stdout
    org.deploys.clear()  # the deliberate mismatch is this test's point, not a failure of the fixture's check


OBJECT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">'
    "<label>Prompt</label><pluralLabel>Prompts</pluralLabel></CustomObject>\n"
)
FIELD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">'
    "<fullName>Text__c</fullName><label>Text</label><length>255</length><type>Text</type></CustomField>\n"
)
LABELS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<CustomLabels xmlns="http://soap.sforce.com/2006/04/metadata">'
    "<labels><fullName>Greeting</fullName><language>en_US</language><protected>false</protected>"
    "<shortDescription>Greeting</shortDescription><value>Hello</value></labels></CustomLabels>\n"
)


def test_objects_fields_and_labels_deploy_without_the_sf_cli(org: FakeOrg, project: Path) -> None:
    """Every type of the sf CLI's registry converts in apexgen itself: no sf on PATH, no Node."""
    base = project / "force-app/main/default"
    (base / "objects/Prompt__c/fields").mkdir(parents=True)
    (base / "objects/Prompt__c/Prompt__c.object-meta.xml").write_text(OBJECT)
    (base / "objects/Prompt__c/fields/Text__c.field-meta.xml").write_text(FIELD)
    (base / "labels").mkdir()
    (base / "labels/Prompts.labels-meta.xml").write_text(LABELS)
    (project / "force-app/test/jest-mocks").mkdir(parents=True)
    (project / "force-app/test/jest-mocks/apex.js").write_text("export default {};\n")
    result = deploy(org, project, env={"PATH": "/nonexistent"})
    assert result.exit_code == 0, result.output
    assert "Skipped 1 files that are not metadata, as sf does: force-app/test/jest-mocks/apex.js" in result.stderr
    assert [(m.type, m.name) for m in org.deploys["0Af000000000001AAA"].members] == [
        ("ApexClass", "FooService"),
        ("ApexClass", "FooServiceTest"),
        ("CustomField", "Prompt__c.Text__c"),
        ("CustomLabel", "Greeting"),
        ("CustomLabels", "CustomLabels"),
        ("CustomObject", "Prompt__c"),
        ("Flow", "Greeting_Flow"),
        ("LightningComponentBundle", "fooCard"),
    ]
    assert "Tests: 2 run, 0 failed" in result.stdout  # the @IsTest scan still finds the test classes


def test_every_package_directory_deploys_unless_some_are_named(org: FakeOrg, project: Path) -> None:
    config = json.loads((project / "sfdx-project.json").read_text())
    config["packageDirectories"].append({"path": "extras"})
    (project / "sfdx-project.json").write_text(json.dumps(config))
    (project / "extras/classes").mkdir(parents=True)
    (project / "extras/classes/Extra.cls").write_text("public class Extra {}")
    (project / "extras/classes/Extra.cls-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<apiVersion>63.0</apiVersion></ApexClass>\n"
    )
    everything = deploy(org, project)
    only_force_app = deploy(org, project, "--package-dir", "force-app")
    assert everything.exit_code == 0 and only_force_app.exit_code == 0, everything.output + only_force_app.output
    first, second = org.deploys.values()
    assert ("ApexClass", "Extra") in [(m.type, m.name) for m in first.members]
    assert ("ApexClass", "Extra") not in [(m.type, m.name) for m in second.members]


@pytest.mark.parametrize(
    "args",
    [
        ["--tests", "FooServiceTest", "--tests", "BarTest"],
        ["-t", "FooServiceTest,BarTest"],
        ["-t", "FooServiceTest", "BarTest"],
        ["-t", "FooServiceTest", "-t", "BarTest", "-l", "runspecifiedtests"],
    ],
    ids=["repeated", "comma-separated", "space-separated", "short-flags-any-case"],
)
def test_tests_take_sf_s_forms_and_every_name_counts(org: FakeOrg, project: Path, args: list[str]) -> None:
    result = deploy(org, project, "-w", "10", *args)
    assert "started: 4 components, RunSpecifiedTests, tests: FooServiceTest, BarTest" in result.stderr, result.output


def test_dry_run_is_sf_s_name_for_a_validation(org: FakeOrg, project: Path) -> None:
    result = deploy(org, project, "--dry-run")
    assert result.exit_code == 0, result.output
    assert org.deploys["0Af000000000001AAA"].check_only
