"""Run Apex tests already in the org: Tooling API runTestsAsynchronous, polled, then results and coverage.

Unlike a deploy's RunTestsResult, ApexCodeCoverageAggregate lists covered and uncovered lines, so the
coverage report of a test run is exact line by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from generator.connect import Connection
from generator.deploy import poll_until
from generator.errors import ApexgenError, ExitCode, UsageError
from generator.mdapi import ClassCoverage, TestOutcome, TestRunResult, TransientError

FINAL_RUN_STATUSES = ("Completed", "Failed", "Aborted")
RUN_LEVELS = ("RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg")


class ToolingError(ApexgenError):
    exit_code = ExitCode.FINDINGS


@dataclass
class RunProgress:
    run_id: str
    status: str
    methods_total: int
    methods_completed: int
    methods_failed: int


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class ToolingSession:
    """Tooling API calls on a Connection: logs in again once when the session expired (where it can)."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def _call(self, idempotent: bool, action: Callable[[Any], Any]) -> Any:
        import requests
        from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

        for attempt in (1, 2):
            try:
                return action(self.connection.rest(idempotent=idempotent))
            except SalesforceExpiredSession:
                if attempt == 1 and self.connection.can_reauthenticate:
                    self.connection.reauthenticate()
                    continue
                raise ToolingError("the session expired (INVALID_SESSION_ID) and cannot be renewed") from None
            except SalesforceError as exc:
                if exc.status >= 500 and idempotent:
                    raise TransientError(f"Tooling API answered HTTP {exc.status}") from None
                detail = exc.content[0].get("message") if isinstance(exc.content, list) and exc.content else exc.status
                raise ToolingError(f"Tooling API: {detail}") from None
            except requests.RequestException:
                if idempotent:
                    raise TransientError("the connection to the org failed or was dropped") from None
                raise ToolingError("the connection dropped while starting the test run; it was not re-sent") from None
        raise AssertionError("unreachable: the second attempt returns or raises")

    def query(self, soql: str) -> list[dict[str, Any]]:
        timeout = self.connection.timeout
        self.connection.log(f"GET tooling/query {soql.split(' WHERE ')[0]}")
        return self._call(True, lambda sf: sf.restful("tooling/query/", params={"q": soql}, timeout=timeout))["records"]

    def start(self, test_level: str, class_names: list[str]) -> str:
        if test_level not in RUN_LEVELS:
            raise UsageError(f"--test-level: apexgen test runs {', '.join(RUN_LEVELS)}, not {test_level}")
        body: dict[str, Any] = {"testLevel": test_level}
        if test_level == "RunSpecifiedTests":
            body["classNames"] = ",".join(class_names)
        timeout = self.connection.timeout
        self.connection.log("POST tooling/runTestsAsynchronous")
        return str(self._call(False, lambda sf: sf.toolingexecute("runTestsAsynchronous", method="POST", data=body,
                                                                  timeout=timeout)))


def wait_for_run(tooling: ToolingSession, run_id: str, *, wait_seconds: float, **callbacks: Any) -> RunProgress:
    """Poll ApexTestRunResult on the same grid as a deploy until the run is final."""

    def fetch() -> RunProgress | None:
        rows = tooling.query(
            "SELECT AsyncApexJobId, Status, MethodsEnqueued, MethodsCompleted, MethodsFailed "
            f"FROM ApexTestRunResult WHERE AsyncApexJobId = {_quote(run_id)}"
        )
        if not rows:
            return None  # the run is queued but has no result row yet
        row = rows[0]
        return RunProgress(run_id, row["Status"], row.get("MethodsEnqueued") or 0,
                           row.get("MethodsCompleted") or 0, row.get("MethodsFailed") or 0)

    return poll_until(fetch, lambda progress: progress.status in FINAL_RUN_STATUSES, job_id=run_id,
                      wait_seconds=wait_seconds, status_of=lambda progress: progress.status, **callbacks)


def collect_results(tooling: ToolingSession, run_id: str, covered_classes: list[str]) -> TestRunResult:
    """Test outcomes of the run, coverage of ``covered_classes``, and the org-wide coverage warning if any."""
    rows = tooling.query(
        "SELECT ApexClass.Name, ApexClass.NamespacePrefix, MethodName, Outcome, Message, StackTrace, RunTime "
        f"FROM ApexTestResult WHERE AsyncApexJobId = {_quote(run_id)}"
    )
    tests = [
        TestOutcome(
            class_name=(row.get("ApexClass") or {}).get("Name") or "",
            method_name=row.get("MethodName") or "",
            namespace=(row.get("ApexClass") or {}).get("NamespacePrefix"),
            time_ms=float(row.get("RunTime") or 0),
            passed=row.get("Outcome") == "Pass",
            message=row.get("Message"),
            stack_trace=row.get("StackTrace"),
        )
        for row in rows
        if row.get("Outcome") != "Skip"
    ]
    coverage: list[ClassCoverage] = []
    if covered_classes:
        names = ", ".join(_quote(n) for n in covered_classes)
        for row in tooling.query(
            "SELECT ApexClassOrTrigger.Name, NumLinesCovered, NumLinesUncovered, Coverage "
            f"FROM ApexCodeCoverageAggregate WHERE ApexClassOrTrigger.Name IN ({names})"
        ):
            lines = row.get("Coverage") or {}
            covered, uncovered = row.get("NumLinesCovered") or 0, row.get("NumLinesUncovered") or 0
            coverage.append(ClassCoverage(
                name=(row.get("ApexClassOrTrigger") or {}).get("Name") or "", type="Class", namespace=None,
                num_locations=covered + uncovered, num_not_covered=uncovered,
                uncovered_lines=sorted(lines.get("uncoveredLines") or []),
                covered_lines=sorted(lines.get("coveredLines") or []),
            ))
    warnings = []
    org_wide = tooling.query("SELECT PercentCovered FROM ApexOrgWideCoverage")
    if org_wide and (org_wide[0].get("PercentCovered") or 0) < 75:
        warnings.append(f"Average test coverage across all Apex Classes and Triggers is "
                        f"{org_wide[0]['PercentCovered']}%, at least 75% test coverage is required.")
    return TestRunResult(tests, coverage, warnings, sum(t.time_ms for t in tests))
