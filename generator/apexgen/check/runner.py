"""Stage 5: check an SFDX project offline, with Salesforce's own tools, before anything reaches an org.

``run_checks`` runs the fast check (``fast``) and, with ``deep``, the deep check's tools (``deep``) in
parallel with it. Every problem becomes a ``Finding``; the caller decides what to print and how to exit.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from apexgen.check.deep import deep_checks, merge_syntax_findings
from apexgen.check.fast import check_sfdx_project, project_checks
from apexgen.check.findings import Finding
from apexgen.check.pmd import DEFAULT_PMD_CATEGORIES, validate_pmd_categories
from apexgen.check.toolchain import require_toolchain
from apexgen.errors import UsageError


def run_checks(
    root: Path, deep: bool = False, pmd_rules: Iterable[str] = DEFAULT_PMD_CATEGORIES, use_cache: bool = True
) -> list[Finding]:
    """Check the project at ``root``; every finding, sorted by file and line.

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
    jobs = deep_checks(toolchain, project, categories, use_cache) if toolchain else []
    with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
        running = [pool.submit(job) for job in jobs]
        findings += project_checks(project, use_cache)  # while the tools run
        for job in running:
            findings += job.result()
    # The daemon records what its apex-ls model read by digesting the files itself, so a file that changed
    # meanwhile is refreshed at its next request: the daemon goes on serving.
    findings += project.changed_during_check()
    # A tool may report one problem twice (lxml's error log does for some XSD errors).
    return sorted(set(merge_syntax_findings(findings)))
