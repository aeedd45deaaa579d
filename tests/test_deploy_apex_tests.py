"""apexgen test: an asynchronous Tooling API test run against the fake org, with the same reports as a deploy."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from apexgen.cli import main
from tests.fakes.clock import clock_for
from tests.fakes.org import FakeOrg, Scenario, running_org, write_sample_project


@pytest.fixture
def org(project: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrg]:
    with running_org(FakeOrg(clock_for(request, monkeypatch))) as (fake, server):
        fake.ca_bundle = server.ca_bundle  # type: ignore[attr-defined]
        classes = project / "force-app/main/default/classes"
        fake.org_classes = {p.stem: p.read_text() for p in classes.glob("*.cls")}  # as after a deploy
        yield fake
    assert fake.protocol_errors == []


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_sample_project(tmp_path / "project")


def run_tests(org: FakeOrg, project: Path, *args: str, env: dict | None = None) -> Result:
    environment = {"REQUESTS_CA_BUNDLE": org.ca_bundle, "SF_ACCESS_TOKEN": org.access_token, **(env or {})}  # type: ignore[attr-defined]
    login = [] if "--username" in args else ["--instance-url", org.url]
    return CliRunner().invoke(main, ["test", "--project-dir", str(project), *login, *args], env=environment)


def test_passing_run_reports_tests_and_line_coverage(org: FakeOrg, project: Path, tmp_path: Path) -> None:
    junit, coverage = tmp_path / "junit.xml", tmp_path / "coverage.xml"
    result = run_tests(org, project, "--junit", str(junit), "--coverage", str(coverage))
    assert result.exit_code == 0, result.output
    assert "Test run 707000000000001AAA started: RunSpecifiedTests, FooServiceTest" in result.stderr
    assert result.stdout.splitlines()[:2] == ["Test run 707000000000001AAA: Completed", "Tests: 2 run, 0 failed"]
    assert re.search(r"FooService\s+90\.0%\s+9/10 lines\s+uncovered lines 9\n", result.stdout)
    assert org.test_runs["707000000000001AAA"].test_methods == [
        ("FooServiceTest", "greetsByName"),
        ("FooServiceTest", "greetsNobody"),
    ]

    from junitparser import JUnitXml
    from pycobertura import Cobertura

    assert [(s.name, s.tests, s.failures) for s in JUnitXml.fromfile(str(junit))] == [("FooServiceTest", 2, 0)]
    report = Cobertura(str(coverage))
    source = "force-app/main/default/classes/FooService.cls"
    assert report.line_rate() == pytest.approx(0.9)
    assert report.missed_lines(source) == [(9, "miss")]
    assert report.total_statements(source) == 10  # covered lines are listed too: the Tooling API names them


def test_failing_test_and_low_coverage_exit_1(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(outcome="failing")
    result = run_tests(org, project, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)["result"]
    assert document["success"] is False
    failed = [t for t in document["tests"]["results"] if t["outcome"] == "Fail"]
    assert failed == [
        {
            "class": "FooServiceTest",
            "method": "greetsByName",
            "namespace": None,
            "outcome": "Fail",
            "timeMs": 41.0,
            "message": "System.AssertException: Assertion Failed: Expected: hi, Actual: hello",
            "stackTrace": "Class.FooServiceTest.greetsByName: line 5, column 1",
            "file": "force-app/main/default/classes/FooServiceTest.cls",
            "line": 5,
            "column": 1,
        }
    ]
    assert document["coverage"]["totalPercent"] == 60.0
    assert document["coverage"]["warnings"] == [
        "Average test coverage across all Apex Classes and Triggers is 60%, at least 75% test coverage is required."
    ]


def test_run_survives_server_errors_and_session_expiry(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(duration=2.0, status_faults={1: "503", 2: "drop", 3: "expire"})
    env = {"SF_PASSWORD": org.password, "SF_SECURITY_TOKEN": org.security_token}
    result = run_tests(org, project, "--username", org.username, "--login-url", org.url, env=env)
    assert result.exit_code == 0, result.output
    assert org.call_count("login") == 2
    assert org.call_count("runTestsAsynchronous") == 1


def test_unknown_test_class_is_reported(org: FakeOrg, project: Path) -> None:
    result = run_tests(org, project, "--tests", "NoSuchTest")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("error: Tooling API: No test class found: NoSuchTest")


def test_wait_running_out(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(duration=30.0)
    result = run_tests(org, project, "--wait", "1s")
    assert result.exit_code == 1
    assert "error: the wait of 1 s ran out; 707000000000001AAA is still Processing in the org" in result.stderr
