"""Run Apex tests already in the org: Tooling API runTestsAsynchronous, polled, then results and coverage.

Unlike a deploy's RunTestsResult, ApexCodeCoverageAggregate lists covered and uncovered lines, so the
coverage report of a test run is exact line by line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apexgen.convert import ConvertedProject
from apexgen.org.polling import poll_until
from apexgen.org.results import ClassCoverage, TestOutcome, TestRunResult
from apexgen.org.tooling import ToolingSession, soql_quote

FINAL_RUN_STATUSES = ("Completed", "Failed", "Aborted")


@dataclass
class RunProgress:
    run_id: str
    status: str
    methods_total: int
    methods_completed: int
    methods_failed: int


def wait_for_run(tooling: ToolingSession, run_id: str, *, wait_seconds: float, **callbacks: Any) -> RunProgress:
    """Poll ApexTestRunResult on the same grid as a deploy until the run is final."""

    def fetch() -> RunProgress | None:
        rows = tooling.query(
            "SELECT AsyncApexJobId, Status, MethodsEnqueued, MethodsCompleted, MethodsFailed "
            f"FROM ApexTestRunResult WHERE AsyncApexJobId = {soql_quote(run_id)}"
        )
        if not rows:
            return None  # the run is queued but has no result row yet
        row = rows[0]
        return RunProgress(
            run_id,
            row["Status"],
            row.get("MethodsEnqueued") or 0,
            row.get("MethodsCompleted") or 0,
            row.get("MethodsFailed") or 0,
        )

    final: RunProgress = poll_until(
        fetch,
        lambda progress: progress.status in FINAL_RUN_STATUSES,
        job_id=run_id,
        wait_seconds=wait_seconds,
        status_of=lambda progress: progress.status,
        **callbacks,
    )
    return final


def collect_results(tooling: ToolingSession, run_id: str, covered_classes: list[str]) -> TestRunResult:
    """Test outcomes of the run, coverage of ``covered_classes``, and the org-wide coverage warning if any."""
    rows = tooling.query(
        "SELECT ApexClass.Name, ApexClass.NamespacePrefix, MethodName, Outcome, Message, StackTrace, RunTime "
        f"FROM ApexTestResult WHERE AsyncApexJobId = {soql_quote(run_id)}"
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
        names = ", ".join(soql_quote(n) for n in covered_classes)
        for row in tooling.query(
            "SELECT ApexClassOrTrigger.Name, NumLinesCovered, NumLinesUncovered, Coverage "
            f"FROM ApexCodeCoverageAggregate WHERE ApexClassOrTrigger.Name IN ({names})"
        ):
            lines = row.get("Coverage") or {}
            covered, uncovered = row.get("NumLinesCovered") or 0, row.get("NumLinesUncovered") or 0
            coverage.append(
                ClassCoverage(
                    name=(row.get("ApexClassOrTrigger") or {}).get("Name") or "",
                    type="Class",
                    namespace=None,
                    num_locations=covered + uncovered,
                    num_not_covered=uncovered,
                    uncovered_lines=sorted(lines.get("uncoveredLines") or []),
                    covered_lines=sorted(lines.get("coveredLines") or []),
                )
            )
    warnings = []
    org_wide = tooling.query("SELECT PercentCovered FROM ApexOrgWideCoverage")
    if org_wide and (org_wide[0].get("PercentCovered") or 0) < 75:
        warnings.append(
            f"Average test coverage across all Apex Classes and Triggers is "
            f"{org_wide[0]['PercentCovered']}%, at least 75% test coverage is required."
        )
    return TestRunResult(tests, coverage, warnings, sum(t.time_ms for t in tests))


_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_IS_TEST_BEFORE_CLASS = re.compile(r"@istest\b(?:(?!\bclass\b).)*\bclass\b", re.IGNORECASE | re.DOTALL)


def find_test_classes(root: Path, project: ConvertedProject) -> list[str]:
    """Apex classes annotated @IsTest, by a scan of each class's text before its ``class`` keyword."""
    tests = []
    for zip_path, source in project.source_paths.items():
        if zip_path.startswith("classes/") and zip_path.endswith(".cls"):
            text = _COMMENTS.sub(" ", (root / source).read_text(encoding="utf-8", errors="replace"))
            match = _IS_TEST_BEFORE_CLASS.search(text)
            first_class = re.search(r"\bclass\b", text, re.IGNORECASE)
            if match and first_class and match.end() == first_class.end():
                tests.append(zip_path[len("classes/") : -len(".cls")])
    return sorted(tests)
