"""The deep check: Salesforce's own tools, as independent jobs that run in parallel.

jorje (Salesforce's Apex parser) streams its ASTs into prettier-plugin-apex, apex-ls does semantic analysis
(with the ``aiplatform`` types, ``apexgen.check.apex_ls``), and PMD 7 applies its rules with Code Analyzer's
severities (``apexgen.check.pmd``). Tools that judge each file alone reuse what the last check found in
unchanged files. A tool that fails on one file says so in a finding on that file; one that fails
altogether says so in a finding on the project, and every other tool's findings are kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial, wraps
from importlib import resources
from pathlib import Path
from typing import Any

from apexgen.check.apex_ls import apex_ls_findings, mirror_dir
from apexgen.check.cache import FindingsCache
from apexgen.check.daemon import Daemon, DaemonError, daemon_for
from apexgen.check.findings import BLOCKER, Finding, ProjectFiles, ToolFailedError, last_line, not_run
from apexgen.check.jvm import java_command
from apexgen.check.pmd import CROSS_FILE_ENV, pmd_findings
from apexgen.check.toolchain import (
    JORJE_BATCH,
    Toolchain,
    jorje_classpath_of,
    require_toolchain,
)
from apexgen.errors import UsageError
from apexgen.salesforce import SFDX_PROJECT_FILE

PRETTIER_CONFIG = ".prettierrc"
# Formatting is code style: Code Analyzer puts its code style rules at Low.
FORMAT_SEVERITY = "low"
# apex-ls' and PMD's own grammars may lag the platform's: their syntax complaints on a file jorje accepts.
OTHER_PARSER_SEVERITY = "moderate"
PRETTIER_SCRIPT = "prettier_format.mjs"
JORJE_STOPPED_EXIT = 65  # prettier_format.mjs' exit when jorje's output ends before the last file


@dataclass(frozen=True)
class FormatResult:
    path: Path
    syntax_errors: tuple[tuple[int, int, str], ...]  # line, column, message: jorje's parse errors
    formatted: str | None  # prettier's output, when the file parses and formats
    format_error: str | None
    failure: str | None = None  # why jorje could not parse the file at all


def parse_and_format(
    toolchain: Toolchain, root: Path, files: list[Path], daemon: Daemon | None = None
) -> list[FormatResult]:
    """Parse ``files`` with jorje and format those that parse with prettier-plugin-apex.

    jorje runs in one JVM (JorjeBatch: ``daemon``'s, or else one of its own) whose ASTs stream into one
    Node process (prettier_format.mjs), so every file is parsed once, with no process per file, while
    Node formats the files already parsed. Formatting follows the project's .prettierrc (any format
    prettier reads, overrides included); files it does not format with prettier-plugin-apex are parsed
    but not formatted.
    """
    if not files:
        return []
    config = root / PRETTIER_CONFIG
    absolute = [str(f.resolve()) for f in files]
    request = {
        "nodeModules": str(toolchain.node_modules),
        "files": absolute,
        "prettierConfig": str(config) if config.exists() else None,
    }
    with (
        tempfile.TemporaryDirectory(prefix="apexgen-format-") as scratch,
        resources.as_file(resources.files("apexgen.check").joinpath(PRETTIER_SCRIPT)) as script,
    ):
        request_file = Path(scratch, "request.json")
        request_file.write_text(json.dumps(request), "utf-8")
        node_command = ["node", str(script), str(request_file)]
        report = _format_from_daemon(daemon, absolute, node_command, root) if daemon is not None else None
        if report is None:
            paths = Path(scratch, "paths.txt")
            paths.write_text("".join(f"{path}\n" for path in absolute), "utf-8")
            report = _format_from_own_jvm(toolchain, paths, node_command, root)
    return [
        FormatResult(
            Path(r["path"]),
            tuple((line, column, message) for line, column, message in r["syntaxErrors"]),
            r["formatted"],
            r["formatError"],
            r["failure"],
        )
        for r in report["files"]
    ]


def _run_node(command: list[str], stdin: Any, root: Path) -> tuple[int, dict[str, Any]]:
    """prettier_format.mjs reading ASTs from ``stdin``: its exit code (0, or JORJE_STOPPED_EXIT) and its report."""
    with tempfile.TemporaryFile() as node_log:
        try:
            node = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE, stderr=node_log, cwd=root)
        except OSError as exc:
            raise ToolFailedError("prettier", str(exc)) from None
        output, _ = node.communicate()
        node_log.seek(0)
        errors = node_log.read()
    try:
        report = json.loads(output)
    except ValueError:
        report = {}
    if "configError" in report:
        raise UsageError(f"{PRETTIER_CONFIG}: cannot be read: {report['configError']}")
    if node.returncode not in (0, JORJE_STOPPED_EXIT) or (node.returncode == 0 and "files" not in report):
        raise ToolFailedError("prettier", f"exit {node.returncode}: {last_line(errors, output)}")
    return node.returncode, report


def _format_from_daemon(daemon: Daemon, paths: list[str], node_command: list[str], root: Path) -> dict[str, Any] | None:
    """Node's report on the ASTs the daemon's jorje streams straight into it; None when the daemon fails
    (jorje then runs in a JVM of its own)."""
    try:
        connection = daemon.stream({"op": "jorje", "paths": paths})
    except DaemonError:
        return None
    with connection:
        returncode, report = _run_node(node_command, connection.fileno(), root)
    return report if returncode == 0 else None  # the stream ended early: the daemon went away


def _format_from_own_jvm(toolchain: Toolchain, paths: Path, node_command: list[str], root: Path) -> dict[str, Any]:
    """Node's report on the ASTs JorjeBatch, in a JVM of its own, streams into it through a pipe."""
    classpath = jorje_classpath_of(toolchain)
    with open(paths, "rb") as path_list, tempfile.TemporaryFile() as jorje_log:
        try:
            jorje = subprocess.Popen(
                java_command(classpath, [JORJE_BATCH]), stdin=path_list, stdout=subprocess.PIPE, stderr=jorje_log
            )
        except OSError as exc:
            raise ToolFailedError("jorje", str(exc)) from None
        try:
            # When Node fails first, jorje fails too, writing into the closed pipe: _run_node blames Node.
            returncode, report = _run_node(node_command, jorje.stdout, root)
        except ToolFailedError:
            jorje.kill()
            raise
        finally:
            if jorje.stdout is not None:  # always: stdout=PIPE
                jorje.stdout.close()  # Node holds the pipe now; jorje sees it close if Node stops
            jorje.wait()
        jorje_log.seek(0)
        jorje_errors = jorje_log.read()
    if jorje.returncode != 0 or returncode == JORJE_STOPPED_EXIT:
        raise ToolFailedError("jorje", f"exit {jorje.returncode}: {last_line(jorje_errors)}")
    return report


def prettier_format(root: Path, files: list[Path]) -> dict[Path, str]:
    """prettier-plugin-apex's formatting of each of ``files``, with the project's .prettierrc.

    Files that do not parse, or that the .prettierrc does not format with prettier-plugin-apex, are left out.
    Raises ToolsMissingError when Node, Java or the pinned packages are missing.
    """
    root = Path(root).resolve()
    results = parse_and_format(require_toolchain(root), root, [Path(f) for f in files])
    by_path = {r.path: r.formatted for r in results if r.formatted is not None}
    return {Path(f): by_path[Path(f).resolve()] for f in files if Path(f).resolve() in by_path}


def first_difference(text: str, formatted: str) -> int:
    """1-based number of the first line where ``formatted`` differs from ``text``; 0 when equal."""
    if text == formatted:
        return 0
    old, new = text.splitlines(), formatted.splitlines()
    return next((i + 1 for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)) + 1)


def cached(
    tool: str,
    project: ProjectFiles,
    files: list[Path],
    settings: str | None,
    run: Callable[[list[Path]], list[Finding]],
) -> list[Finding]:
    """``run`` on the files that changed since the last check; the last check's findings for the others.

    ``settings``: all the tool's verdict on a file depends on besides the file, or None not to cache.
    """
    if settings is None:
        return run(files)
    store = FindingsCache(project, tool, settings)
    known, stale = store.split(files)
    found = run(stale) if stale else []
    store.save(stale, found)
    return known + found


def jorje_prettier_findings(
    toolchain: Toolchain, project: ProjectFiles, files: list[Path], daemon: Daemon | None = None
) -> list[Finding]:
    """Syntax errors from jorje (blockers), then formatting findings from prettier on the files that parse."""
    findings = []
    for result in parse_and_format(toolchain, project.root, files, daemon):
        file = project.relative(result.path)
        if result.failure:
            findings.append(not_run(file, "jorje", f"{result.failure}; syntax and formatting not checked"))
        for line, column, message in result.syntax_errors:
            findings.append(Finding(file, line, column, BLOCKER, "jorje", "syntax", message))
        if result.format_error:
            findings.append(Finding(file, 0, 0, FORMAT_SEVERITY, "prettier", "format-failed", result.format_error))
        elif result.formatted is not None:
            line = first_difference(result.path.read_text("utf-8", errors="replace"), result.formatted)
            if line:
                message = "not formatted as prettier-plugin-apex would format it, from this line on"
                findings.append(Finding(file, line, 0, FORMAT_SEVERITY, "prettier", "format", message))
    return findings


def merge_syntax_findings(findings: list[Finding]) -> list[Finding]:
    """Let jorje, Salesforce's own parser, judge syntax.

    apex-ls and PMD parse with grammars of their own. On a file jorje rejects, their syntax complaints
    repeat jorje's and are dropped; on a file jorje accepts, their complaint is kept as a rule finding
    (their grammars may lag the platform's).
    """
    rejected = {f.file for f in findings if f.tool == "jorje" and f.rule == "syntax"}
    merged = []
    for finding in findings:
        other_parser = (finding.tool, finding.rule) in {("apex-ls", "Syntax"), ("pmd", "ProcessingError")}
        if other_parser and finding.file in rejected:
            continue
        if other_parser:
            finding = replace(finding, severity=OTHER_PARSER_SEVERITY)
        merged.append(finding)
    return merged


def deep_checks(
    toolchain: Toolchain, project: ProjectFiles, pmd_rules: tuple[str, ...], use_cache: bool
) -> dict[tuple[str, ...], Callable[[], list[Finding]]]:
    """The deep tools as independent jobs, to run in parallel, by the tools each runs (``TOOL_NAMES``); a
    job whose tool fails altogether returns the finding that says so (with every other job's findings kept).

    jorje, prettier and PMD judge each file alone (PMD's rules do unless PMD_APEX_ROOT_DIRECTORY turns on
    its cross-file analysis), so with ``use_cache`` they look only at files changed since the last check.
    """
    files = project.apex_files()
    if not files:
        return {}
    # What else each per-file tool's verdict depends on; None: not cached.
    prettier_settings = pmd_settings = None
    if use_cache:
        config = project.root / PRETTIER_CONFIG
        prettier_settings = config.read_text("utf-8", errors="replace") if config.exists() else ""
        pmd_settings = ",".join(pmd_rules) if CROSS_FILE_ENV not in os.environ else None

    # jorje, apex-ls and PMD kept loaded between checks (None: each tool runs in a JVM of its own). Its
    # apex-ls reads the project's probed mirror (apex_ls_workspace).
    has_sfdx_project = (project.root / SFDX_PROJECT_FILE).exists()
    daemon_root = mirror_dir(project) if has_sfdx_project else project.root
    daemon = daemon_for(toolchain, daemon_root, use_cache)

    def jorje_prettier() -> list[Finding]:
        run_jorje_prettier = partial(jorje_prettier_findings, toolchain, project, daemon=daemon)
        return cached("jorje-prettier", project, files, prettier_settings, run_jorje_prettier)

    def pmd() -> list[Finding]:
        run_pmd = partial(pmd_findings, toolchain, project, categories=pmd_rules, daemon=daemon)
        return cached("pmd", project, files, pmd_settings, run_pmd)

    def apex_ls() -> list[Finding]:
        return apex_ls_findings(toolchain, project, use_cache, daemon)

    jobs: dict[tuple[str, ...], Callable[[], list[Finding]]] = {("jorje", "prettier"): jorje_prettier}
    if pmd_rules:
        jobs[("pmd",)] = pmd
    if has_sfdx_project:  # apex-ls only reads SFDX projects
        jobs[("apex-ls",)] = apex_ls
    return {tools: reporting_failure(job) for tools, job in jobs.items()}


def reporting_failure(job: Callable[[], list[Finding]]) -> Callable[[], list[Finding]]:
    """``job``, returning, when its tool fails altogether, the one finding that says what did not run."""

    @wraps(job)
    def run() -> list[Finding]:
        try:
            return job()
        except ToolFailedError as failure:
            return [not_run(".", failure.tool, f"{failure.reason}; nothing it checks was checked")]

    return run
