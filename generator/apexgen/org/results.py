"""What the Metadata API reports of a deploy and its tests, as typed values (parsed from SOAP with lxml).

The Tooling API's test runs report into the same types, so one report serves deploys and test runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from apexgen.salesforce import METADATA_NAMESPACE as MD

XSI = "http://www.w3.org/2001/XMLSchema-instance"

if TYPE_CHECKING:
    from lxml import etree

FINAL_STATUSES = ("Succeeded", "SucceededPartial", "Failed", "Canceled")


@dataclass
class ComponentMessage:
    component_type: str
    full_name: str
    file_name: str
    problem: str | None
    problem_type: str | None
    line: int | None
    column: int | None
    success: bool
    created: bool
    changed: bool
    deleted: bool


@dataclass
class TestOutcome:
    class_name: str
    method_name: str
    namespace: str | None
    time_ms: float
    passed: bool
    message: str | None = None
    stack_trace: str | None = None


@dataclass
class ClassCoverage:
    name: str
    type: str  # Class | Trigger
    namespace: str | None
    num_locations: int
    num_not_covered: int
    uncovered_lines: list[int]
    covered_lines: list[int] | None = None  # only the Tooling API says which lines ran

    @property
    def percent(self) -> float:
        if not self.num_locations:
            return 100.0
        return 100.0 * (self.num_locations - self.num_not_covered) / self.num_locations


@dataclass
class TestRunResult:
    tests: list[TestOutcome] = field(default_factory=list)
    coverage: list[ClassCoverage] = field(default_factory=list)
    coverage_warnings: list[str] = field(default_factory=list)
    total_time_ms: float = 0.0

    @property
    def failures(self) -> list[TestOutcome]:
        return [t for t in self.tests if not t.passed]


@dataclass
class DeployResult:
    id: str
    status: str
    done: bool
    success: bool
    check_only: bool
    state_detail: str | None
    error_message: str | None
    error_status_code: str | None
    components_total: int
    components_deployed: int
    component_errors: int
    tests_total: int
    tests_completed: int
    test_errors: int
    run_tests_enabled: bool
    canceled_by_name: str | None = None
    created_date: str | None = None
    completed_date: str | None = None
    component_failures: list[ComponentMessage] = field(default_factory=list)
    component_successes: list[ComponentMessage] = field(default_factory=list)
    test_result: TestRunResult | None = None

    @property
    def finished(self) -> bool:
        return self.done or self.status in FINAL_STATUSES


def _q(name: str) -> str:
    return f"{{{MD}}}{name}"


def field_text(element: etree._Element, name: str) -> str | None:
    child = element.find(_q(name))
    if child is None or child.get(f"{{{XSI}}}nil") == "true":
        return None
    return child.text or ""


def _int(element: etree._Element, name: str) -> int:
    value = field_text(element, name)
    return int(value) if value else 0


def _optional_int(element: etree._Element, name: str) -> int | None:
    value = field_text(element, name)
    return int(value) if value else None


def _float(element: etree._Element, name: str) -> float:
    value = field_text(element, name)
    return float(value) if value else 0.0


def field_bool(element: etree._Element, name: str) -> bool:
    return (field_text(element, name) or "").strip().lower() == "true"


def parse_component(element: etree._Element) -> ComponentMessage:
    return ComponentMessage(
        component_type=field_text(element, "componentType") or "",
        full_name=field_text(element, "fullName") or "",
        file_name=field_text(element, "fileName") or "",
        problem=field_text(element, "problem"),
        problem_type=field_text(element, "problemType"),
        line=_optional_int(element, "lineNumber"),
        column=_optional_int(element, "columnNumber"),
        success=field_bool(element, "success"),
        created=field_bool(element, "created"),
        changed=field_bool(element, "changed"),
        deleted=field_bool(element, "deleted"),
    )


def parse_run_test_result(element: etree._Element) -> TestRunResult:
    tests = [
        TestOutcome(
            class_name=field_text(e, "name") or "",
            method_name=field_text(e, "methodName") or "",
            namespace=field_text(e, "namespace") or None,
            time_ms=_float(e, "time"),
            passed=False,
            message=field_text(e, "message"),
            stack_trace=field_text(e, "stackTrace"),
        )
        for e in element.findall(_q("failures"))
    ]
    tests += [
        TestOutcome(
            class_name=field_text(e, "name") or "",
            method_name=field_text(e, "methodName") or "",
            namespace=field_text(e, "namespace") or None,
            time_ms=_float(e, "time"),
            passed=True,
        )
        for e in element.findall(_q("successes"))
    ]
    coverage = [
        ClassCoverage(
            name=field_text(e, "name") or "",
            type=field_text(e, "type") or "Class",
            namespace=field_text(e, "namespace") or None,
            num_locations=_int(e, "numLocations"),
            num_not_covered=_int(e, "numLocationsNotCovered"),
            uncovered_lines=sorted(_int(loc, "line") for loc in e.findall(_q("locationsNotCovered"))),
        )
        for e in element.findall(_q("codeCoverage"))
    ]
    warnings = [field_text(e, "message") or "" for e in element.findall(_q("codeCoverageWarnings"))]
    return TestRunResult(tests, coverage, warnings, _float(element, "totalTime"))


def parse_deploy_result(result: etree._Element) -> DeployResult:
    details = result.find(_q("details"))
    failures, successes, test_result = [], [], None
    if details is not None:
        failures = [parse_component(e) for e in details.findall(_q("componentFailures"))]
        successes = [parse_component(e) for e in details.findall(_q("componentSuccesses"))]
        run_tests = details.find(_q("runTestResult"))
        if run_tests is not None:
            test_result = parse_run_test_result(run_tests)
    return DeployResult(
        id=field_text(result, "id") or "",
        status=field_text(result, "status") or "",
        done=field_bool(result, "done"),
        success=field_bool(result, "success"),
        check_only=field_bool(result, "checkOnly"),
        state_detail=field_text(result, "stateDetail"),
        error_message=field_text(result, "errorMessage"),
        error_status_code=field_text(result, "errorStatusCode"),
        components_total=_int(result, "numberComponentsTotal"),
        components_deployed=_int(result, "numberComponentsDeployed"),
        component_errors=_int(result, "numberComponentErrors"),
        tests_total=_int(result, "numberTestsTotal"),
        tests_completed=_int(result, "numberTestsCompleted"),
        test_errors=_int(result, "numberTestErrors"),
        run_tests_enabled=field_bool(result, "runTestsEnabled"),
        canceled_by_name=field_text(result, "canceledByName"),
        created_date=field_text(result, "createdDate"),
        completed_date=field_text(result, "completedDate"),
        component_failures=failures,
        component_successes=successes,
        test_result=test_result,
    )
