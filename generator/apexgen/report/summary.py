"""What a deploy or test run looks like to people and to CI: terminal summary, JSON, JUnit XML, Cobertura XML.

File names: the org reports metadata-format paths (``classes/Foo.cls``); reports show the project's source path
(``force-app/main/default/classes/Foo.cls``) so editors and CI annotations can jump to it.
"""

from __future__ import annotations

import re
from typing import Any

from apexgen.org.results import ClassCoverage, DeployResult, TestOutcome, TestRunResult

REQUIRED_COVERAGE = 75.0
STACK_FRAME = re.compile(r"Class\.(?:\w+\.)?(\w+)\.\w+: line (\d+), column (\d+)")


class SourceMap:
    """Metadata-format file names -> project source paths, for what the org reports."""

    def __init__(self, source_paths: dict[str, str] | None = None):
        self.paths = source_paths or {}

    def file(self, metadata_file: str) -> str:
        return self.paths.get(metadata_file, metadata_file)

    def apex(self, name: str, kind: str = "Class") -> str:
        folder, suffix = ("triggers", "trigger") if kind == "Trigger" else ("classes", "cls")
        return self.file(f"{folder}/{name}.{suffix}")

    def stack_location(self, stack: str | None) -> tuple[str, int, int] | None:
        """The first ``Class.X.method: line N, column M`` frame as (source file, line, column)."""
        match = STACK_FRAME.search(stack or "")
        if not match:
            return None
        return self.apex(match.group(1)), int(match.group(2)), int(match.group(3))


def line_ranges(lines: list[int]) -> str:
    """'7-10, 14' for [7, 8, 9, 10, 14]."""
    groups: list[list[int]] = []
    for line in sorted(lines):
        if groups and line == groups[-1][1] + 1:
            groups[-1][1] = line
        else:
            groups.append([line, line])
    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in groups)


def total_coverage(classes: list[ClassCoverage]) -> tuple[int, int, float]:
    """(covered, executable lines, percent) over all classes."""
    lines = sum(c.num_locations for c in classes)
    covered = lines - sum(c.num_not_covered for c in classes)
    return covered, lines, (100.0 * covered / lines if lines else 100.0)


def _status_title(result: DeployResult) -> str:
    kind = "Validation" if result.check_only else "Deploy"
    who = f" by {result.canceled_by_name}" if result.status == "Canceled" and result.canceled_by_name else ""
    return f"{kind} {result.id}: {result.status}{who}"


def tests_summary(tests: TestRunResult, sources: SourceMap) -> list[str]:
    failures = tests.failures
    lines = [f"Tests: {len(tests.tests)} run, {len(failures)} failed"]
    for failure in failures:
        lines.append(f"  FAIL {failure.class_name}.{failure.method_name} ({failure.time_ms / 1000:.3f} s)")
        lines.append(f"       {failure.message or '(no message)'}")
        for frame in (failure.stack_trace or "").splitlines():
            lines.append(f"       at {frame}")
        location = sources.stack_location(failure.stack_trace)
        if location:
            lines.append(f"       {location[0]}:{location[1]}:{location[2]}")
    return lines


def coverage_summary(tests: TestRunResult, sources: SourceMap) -> list[str]:
    if not tests.coverage and not tests.coverage_warnings:
        return []
    lines = [f"Coverage ({REQUIRED_COVERAGE:g}% required per class and in total):"]
    width = max([len(c.name) for c in tests.coverage] + [5])
    for cls in sorted(tests.coverage, key=lambda c: c.name):
        mark = "  below 75%" if cls.percent < REQUIRED_COVERAGE else ""
        uncovered = f"  uncovered lines {line_ranges(cls.uncovered_lines)}" if cls.uncovered_lines else ""
        covered = cls.num_locations - cls.num_not_covered
        lines.append(f"  {cls.name:<{width}} {cls.percent:5.1f}%  {covered}/{cls.num_locations} lines{uncovered}{mark}")
    if tests.coverage:
        covered, total, percent = total_coverage(tests.coverage)
        mark = "  below 75%" if percent < REQUIRED_COVERAGE else "  meets 75%"
        lines.append(f"  {'total':<{width}} {percent:5.1f}%  {covered}/{total} lines{mark}")
    lines.extend(f"  warning: {message}" for message in tests.coverage_warnings)
    return lines


def deploy_summary(result: DeployResult, sources: SourceMap) -> str:
    lines = [_status_title(result)]
    if result.error_message or result.error_status_code:
        lines.append(f"  {result.error_status_code or 'error'}: {result.error_message or ''}".rstrip())
    errors = [m for m in result.component_failures if (m.problem_type or "Error") == "Error"]
    warnings = [m for m in result.component_failures if m.problem_type == "Warning"]
    lines.append(
        f"Components: {result.components_deployed} of {result.components_total} deployed, "
        f"{result.component_errors} error(s)"
    )
    for message in errors + warnings:
        where = sources.file(message.file_name)
        if message.line is not None:
            where += f":{message.line}:{message.column or 0}"
        else:
            where += ":"
        severity = "" if message in errors else "warning: "
        lines.append(f"  {where} {severity}{message.problem or ''}")
    if result.test_result is not None and (result.test_result.tests or result.tests_total):
        lines.extend(tests_summary(result.test_result, sources))
    elif result.tests_total:
        lines.append(f"Tests: {result.tests_completed} of {result.tests_total} completed, {result.test_errors} failed")
    if result.test_result is not None:
        lines.extend(coverage_summary(result.test_result, sources))
    return "\n".join(lines) + "\n"


def _test_json(test: TestOutcome, sources: SourceMap) -> dict[str, Any]:
    document: dict[str, Any] = {
        "class": test.class_name,
        "method": test.method_name,
        "namespace": test.namespace,
        "outcome": "Pass" if test.passed else "Fail",
        "timeMs": test.time_ms,
    }
    if not test.passed:
        location = sources.stack_location(test.stack_trace)
        document.update(
            message=test.message,
            stackTrace=test.stack_trace,
            file=location[0] if location else None,
            line=location[1] if location else None,
            column=location[2] if location else None,
        )
    return document


def test_run_json(tests: TestRunResult | None, sources: SourceMap) -> dict[str, Any]:
    tests = tests or TestRunResult()
    classes = sorted(tests.coverage, key=lambda c: c.name)
    covered, total, percent = total_coverage(classes)
    return {
        "tests": {
            "run": len(tests.tests),
            "failed": len(tests.failures),
            "totalTimeMs": tests.total_time_ms,
            "results": [_test_json(t, sources) for t in tests.tests],
        },
        "coverage": {
            "requiredPercent": REQUIRED_COVERAGE,
            "totalPercent": round(percent, 2),
            "linesCovered": covered,
            "lines": total,
            "classes": [
                {
                    "name": c.name,
                    "type": c.type,
                    "file": sources.apex(c.name, c.type),
                    "percent": round(c.percent, 2),
                    "lines": c.num_locations,
                    "linesNotCovered": c.num_not_covered,
                    "uncoveredLines": c.uncovered_lines,
                    "coveredLines": c.covered_lines,
                    "meetsRequirement": c.percent >= REQUIRED_COVERAGE,
                }
                for c in classes
            ],
            "warnings": tests.coverage_warnings,
        },
    }


def deploy_json(result: DeployResult, sources: SourceMap) -> dict[str, Any]:
    return {
        "id": result.id,
        "status": result.status,
        "success": result.success,
        "done": result.done,
        "checkOnly": result.check_only,
        "stateDetail": result.state_detail,
        "errorMessage": result.error_message,
        "errorStatusCode": result.error_status_code,
        "canceledBy": result.canceled_by_name,
        "components": {
            "total": result.components_total,
            "deployed": result.components_deployed,
            "errors": result.component_errors,
            "failures": [
                {
                    "file": sources.file(m.file_name),
                    "metadataFile": m.file_name,
                    "type": m.component_type,
                    "name": m.full_name,
                    "line": m.line,
                    "column": m.column,
                    "problem": m.problem,
                    "problemType": m.problem_type,
                }
                for m in result.component_failures
            ],
        },
        **test_run_json(result.test_result, sources),
    }
