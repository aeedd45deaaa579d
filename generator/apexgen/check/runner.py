"""Stage 5: check an SFDX project offline, with Salesforce's own tools, before anything reaches an org.

``run_checks`` runs the fast check (``fast``) and, with ``deep``, the deep check's tools (``deep``) in
parallel with it. Every problem becomes a ``Finding``; the caller decides what to print and how to exit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apexgen.check.deep import deep_checks, merge_syntax_findings
from apexgen.check.fast import check_sfdx_project, project_checks
from apexgen.check.findings import Finding
from apexgen.check.pmd import DEFAULT_PMD_CATEGORIES, validate_pmd_categories
from apexgen.check.toolchain import ORIGINS, ToolVersion, origin_of, require_toolchain, tool_versions
from apexgen.errors import UsageError


@dataclass(frozen=True)
class ToolsRan:
    """The deep check's tools that ran (or whose findings for unchanged files were reused), and where
    they came from: one of ``ORIGINS``, and the node_modules folder."""

    origin: str
    node_modules: Path
    tools: list[ToolVersion]

    def describe(self) -> str:
        return f"{', '.join(map(str, self.tools))}, from {ORIGINS[self.origin]} ({self.node_modules})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.origin,
            "nodeModules": str(self.node_modules),
            "tools": [
                {"tool": t.tool, "version": t.version, "package": t.package, "packageVersion": t.package_version}
                for t in self.tools
            ],
        }


@dataclass(frozen=True)
class CheckRun:
    """What a check found, and the deep tools it ran (None for the fast check alone)."""

    findings: list[Finding]
    tools: ToolsRan | None


def run_checks(
    root: Path, deep: bool = False, pmd_rules: Iterable[str] = DEFAULT_PMD_CATEGORIES, use_cache: bool = True
) -> list[Finding]:
    """Check the project at ``root``; every finding, sorted by file and line (see ``check_project``)."""
    return check_project(root, deep, pmd_rules, use_cache).findings


def check_project(
    root: Path, deep: bool = False, pmd_rules: Iterable[str] = DEFAULT_PMD_CATEGORIES, use_cache: bool = True
) -> CheckRun:
    """Check the project at ``root``: every finding, sorted by file and line, and the deep tools that ran.

    ``deep`` adds jorje, prettier, apex-ls and PMD (``pmd_rules``: PMD categories, whose findings carry
    Code Analyzer's severities); with ``use_cache`` they reuse what the last deep check learnt of
    unchanged files. A tool that fails is a finding (rule ``not-run``) beside all the others. Raises
    ToolsMissingError when ``deep`` and the tools are missing, UsageError on a bad ``pmd_rules`` or .prettierrc.
    """
    from concurrent.futures import ThreadPoolExecutor

    root = Path(root).resolve()
    if not root.is_dir():
        raise UsageError(f"{root}: no such project directory")
    categories = validate_pmd_categories(pmd_rules)
    toolchain = require_toolchain(root) if deep else None
    findings, project = check_sfdx_project(root)
    jobs = deep_checks(toolchain, project, categories, use_cache) if toolchain else {}
    with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
        running = [pool.submit(job) for job in jobs.values()]
        findings += project_checks(project, use_cache)  # while the tools run
        for job in running:
            findings += job.result()
    # The daemon records what its apex-ls model read by digesting the files itself, so a file that changed
    # meanwhile is refreshed at its next request: the daemon goes on serving.
    findings += project.changed_during_check()
    tools = None
    if toolchain is not None:
        versions = tool_versions(toolchain)
        ran = [versions[tool] for names in jobs for tool in names]
        tools = ToolsRan(origin_of(toolchain.node_modules, root), toolchain.node_modules, ran)
    # A tool may report one problem twice (lxml's error log does for some XSD errors).
    return CheckRun(sorted(set(merge_syntax_findings(findings))), tools)
