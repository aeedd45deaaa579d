"""PMD 7's Apex rules through Salesforce's PmdWrapper, with the severities Salesforce Code Analyzer gives them.

Code Analyzer (whose PMD engine, @salesforce/code-analyzer-pmd-engine, is pinned here) fixes a severity
for every standard PMD rule in its RULE_MAPPINGS (dist/pmd-rule-mappings.js): ApexCRUDViolation and
ApexSOQLInjection are High, ApexSharingViolations Moderate, ... A rule it does not list gets the level
Code Analyzer derives from the rule's PMD priority. PMD findings are rule findings, never deploy blockers:
the org compiles what they flag.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from apexgen.check.daemon import Daemon, DaemonError
from apexgen.check.findings import Finding, ProjectFiles, ToolFailedError, last_line
from apexgen.check.jvm import LARGE_STACK, run_java
from apexgen.check.toolchain import Toolchain
from apexgen.errors import UsageError

PMD_CATEGORIES = (
    "bestpractices",
    "codestyle",
    "design",
    "documentation",
    "errorprone",
    "multithreading",
    "performance",
    "security",
)
DEFAULT_PMD_CATEGORIES = ("security", "bestpractices")
PMD_MAIN = "com.salesforce.sfca.pmdwrapper.PmdWrapper"
# Set, it turns on PMD's cross-file analysis: a file's findings then depend on the others.
CROSS_FILE_ENV = "PMD_APEX_ROOT_DIRECTORY"
RULE_MAPPINGS = "@salesforce/code-analyzer-pmd-engine/dist/pmd-rule-mappings.js"
# Code Analyzer's toSeverityLevel: PMD priority 1 (High) .. 5 (Low) -> its level.
PRIORITY_SEVERITY = {"1": "high", "2": "moderate", "3": "moderate", "4": "low", "5": "low"}
# A file PMD's own grammar cannot parse: its rules did not run there (jorje judges the syntax).
PROCESSING_ERROR_SEVERITY = "moderate"
_MAPPED_RULE = re.compile(r'"([\w-]+)":\s*\{\s*severity:\s*[\w.]+\.SeverityLevel\.(\w+)')
_PMD_SYNTAX_POSITION = re.compile(r"at (\d+):(\d+)")


@cache
def code_analyzer_severities(node_modules: Path) -> dict[str, str]:
    """Rule name -> severity (critical .. info) from the rule mappings the pinned Code Analyzer engine ships."""
    text = (node_modules / RULE_MAPPINGS).read_text("utf-8")
    return {rule: level.lower() for rule, level in _MAPPED_RULE.findall(text)}


@cache
def pmd_rule_priorities(java_lib: Path) -> dict[str, str]:
    """Rule name -> PMD priority ("1".."5") of every Apex rule in pmd-apex's jar."""
    import zipfile

    from lxml import etree

    (jar,) = java_lib.glob("pmd-apex-*.jar")
    priorities: dict[str, str] = {}
    with zipfile.ZipFile(jar) as archive:
        for category in PMD_CATEGORIES:
            ruleset = etree.fromstring(archive.read(f"category/apex/{category}.xml"))
            for rule in ruleset.iter("{*}rule"):
                name = rule.get("name")
                if name and not rule.get("ref"):
                    priority = rule.find("{*}priority")
                    priorities[name] = priority.text.strip() if priority is not None and priority.text else "3"
    return priorities


def rule_severity(toolchain: Toolchain, rule: str) -> str:
    """The severity Code Analyzer gives ``rule``."""
    mapped = code_analyzer_severities(toolchain.node_modules).get(rule)
    return mapped or PRIORITY_SEVERITY.get(pmd_rule_priorities(toolchain.java_lib).get(rule, "3"), "moderate")


def validate_pmd_categories(categories: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(c.strip() for c in categories if c.strip()))
    unknown = [c for c in chosen if c not in PMD_CATEGORIES]
    if unknown:
        raise UsageError(
            f"--pmd-rules: unknown PMD category {', '.join(unknown)}; choose from {', '.join(PMD_CATEGORIES)}"
        )
    return chosen


def pmd_findings(
    toolchain: Toolchain,
    project: ProjectFiles,
    files: list[Path],
    categories: tuple[str, ...],
    daemon: Daemon | None = None,
) -> list[Finding]:
    """PMD 7 through Salesforce's PmdWrapper, each violation with Code Analyzer's severity for its rule.

    PmdWrapper runs in ``daemon`` (a JVM that has PMD loaded already) when one is given, else in a JVM of its own.
    """
    if not categories:
        return []
    refs = "\n".join(f'  <rule ref="category/apex/{c}.xml"/>' for c in categories)
    ruleset = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ruleset name="apexgen" xmlns="http://pmd.sourceforge.net/ruleset/2.0.0">\n'
        f"  <description>apexgen check</description>\n{refs}\n</ruleset>\n"
    )
    with tempfile.TemporaryDirectory(prefix="apexgen-pmd-") as scratch:
        ruleset_path, input_path, output_path = (Path(scratch, n) for n in ("ruleset.xml", "in.json", "out.json"))
        ruleset_path.write_text(ruleset, "utf-8")
        request = {
            "ruleSetInputFile": str(ruleset_path),
            "runDataPerLanguage": {"apex": {"filesToScan": [str(f.resolve()) for f in files]}},
        }
        input_path.write_text(json.dumps(request), "utf-8")
        report = _run_pmd_wrapper(toolchain, ["run", str(input_path), str(output_path)], output_path, daemon)
    findings = []
    for violation in report.get("violations", []):
        location = violation["codeLocation"]
        rule = violation["rule"]
        findings.append(
            Finding(
                project.relative(location["file"]),
                location["startLine"],
                location["startCol"],
                rule_severity(toolchain, rule),
                "pmd",
                rule,
                violation["message"],
            )
        )
    for error in report.get("processingErrors", []):
        message = error["message"].strip().splitlines()[-1]
        position = _PMD_SYNTAX_POSITION.search(message)
        line, column = (int(position[1]), int(position[2]) + 1) if position else (0, 0)
        findings.append(
            Finding(
                project.relative(error["file"]),
                line,
                column,
                PROCESSING_ERROR_SEVERITY,
                "pmd",
                "ProcessingError",
                f"PMD rules did not run: {message}",
            )
        )
    return findings


def _run_pmd_wrapper(toolchain: Toolchain, arguments: list[str], output: Path, daemon: Daemon | None) -> dict[str, Any]:
    """PmdWrapper's report, from ``daemon`` or else from a JVM of its own."""
    # The cross-file analysis is on in the JVM whose environment turns it on: not in the daemon's.
    if daemon is not None and CROSS_FILE_ENV not in os.environ:
        try:
            daemon.request({"op": "pmd", "arguments": arguments})
            report: dict[str, Any] = json.loads(output.read_text("utf-8"))
            return report
        except (DaemonError, OSError, ValueError):
            pass  # PMD runs alone
    result = run_java("pmd", toolchain, [LARGE_STACK, PMD_MAIN, *arguments])
    try:
        report = json.loads(output.read_text("utf-8"))
    except (OSError, ValueError):
        raise ToolFailedError("pmd", f"no readable report: {last_line(result.stderr, result.stdout)}") from None
    return report
