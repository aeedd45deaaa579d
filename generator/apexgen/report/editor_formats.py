"""Check findings in the forms editors and code scanning read.

* ``problem_matcher_line``: ``file:line:col: severity: message [tool rule]`` with the three severities a VS Code
  problem matcher knows (error, warning, info) and positions from 1: a finding about a whole file (line 0) is
  placed at 1:1, an unknown column at 1. The task ``apexgen init`` writes matches it
  (generate/scaffold.py CHECK_PROBLEM_PATTERN).
* ``sarif``: SARIF 2.1.0 (OASIS), what GitHub code scanning and the VS Code SARIF viewer take.

Deploy blockers are errors; rule findings at critical, high or moderate are warnings; low and info are notes.
"""

from __future__ import annotations

from typing import Any

from apexgen.check.findings import BLOCKER, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
WARNING_SEVERITIES = ("critical", "high", "moderate")


def _level(finding: Finding) -> str:
    if finding.severity == BLOCKER:
        return "error"
    return "warning" if finding.severity in WARNING_SEVERITIES else "info"


def _position(finding: Finding) -> tuple[int, int]:
    return max(finding.line, 1), max(finding.column, 1) if finding.line else 1


def problem_matcher_line(finding: Finding) -> str:
    line, column = _position(finding)
    message = " ".join(finding.message.split())  # one line, whatever a tool said
    return f"{finding.file}:{line}:{column}: {_level(finding)}: {message} [{finding.tool} {finding.rule}]"


def sarif(findings: list[Finding], version: str) -> dict[str, Any]:
    """One SARIF run of apexgen check; rule ids are ``tool/rule`` (pmd/ApexCRUDViolation, xsd/schema)."""
    rule_ids = sorted({f"{finding.tool}/{finding.rule}" for finding in findings})
    results = []
    for finding in findings:
        line, column = _position(finding)
        level = _level(finding)
        results.append(
            {
                "ruleId": f"{finding.tool}/{finding.rule}",
                "ruleIndex": rule_ids.index(f"{finding.tool}/{finding.rule}"),
                "level": "note" if level == "info" else level,
                "message": {"text": finding.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": finding.file, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": line, "startColumn": column},
                        }
                    }
                ],
                "properties": {"severity": finding.severity, "tool": finding.tool},
            }
        )
    driver = {
        "name": "apexgen",
        "version": version,
        "rules": [{"id": rule_id, "name": rule_id.split("/", 1)[1]} for rule_id in rule_ids],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
