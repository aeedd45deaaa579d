"""The deep check: Salesforce's own tools, as independent jobs that run in parallel.

jorje (Salesforce's Apex parser) streams its ASTs into prettier-plugin-apex, apex-ls does semantic analysis
(with the ``aiplatform`` types), and PMD 7 applies its rules (security as errors, other categories as
warnings). Tools that judge each file alone reuse what the last check found in unchanged files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache, partial
from importlib import resources
from pathlib import Path

from apexgen.check.cache import FindingsCache, check_cache_dir
from apexgen.check.findings import Finding, ProjectFiles, ToolFailedError, last_line
from apexgen.check.toolchain import (
    JORJE_BATCH,
    Toolchain,
    jorje_batch_classes,
    require_toolchain,
)
from apexgen.errors import UsageError
from apexgen.salesforce import SFDX_PROJECT_FILE

PRETTIER_CONFIG = ".prettierrc"
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
PMD_ERROR_CATEGORY = "security"
# C1 only and the serial collector: these JVMs run for seconds, where C2 compiler threads and a parallel
# collector cost more CPU than they save, and the deep check runs two of them side by side on few cores.
# JVM warnings go to stderr: stdout carries apex-ls' JSON report.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xlog:disable", "-Xlog:all=warning:stderr")
APEX_LS_MAIN = "io.github.apexdevtools.apexls.CheckForIssues"
APEX_LS_ISSUES_EXIT = 4
# apex-ls' issue categories; with its default detail level only errors are reported.
APEX_LS_WARNING_CATEGORIES = {"Warning", "Unused"}
PMD_MAIN = "com.salesforce.sfca.pmdwrapper.PmdWrapper"
PRETTIER_SCRIPT = "prettier_format.mjs"
JORJE_STOPPED_EXIT = 65  # prettier_format.mjs' exit when jorje's output ends before the last file


def java_command(classpath: list[Path], arguments: list[str]) -> list[str]:
    return ["java", *JVM_OPTIONS, "-cp", os.pathsep.join(map(str, classpath)), *arguments]


def run_java(
    tool: str, toolchain: Toolchain, arguments: list[str], ok_codes: Iterable[int] = (0,)
) -> subprocess.CompletedProcess[str]:
    """Run a main class from the jars of apex-ls and PMD."""
    try:
        result = subprocess.run(java_command([toolchain.java_lib / "*"], arguments), capture_output=True, text=True)
    except OSError as exc:
        raise ToolFailedError(tool, str(exc)) from None
    if result.returncode not in ok_codes:
        raise ToolFailedError(tool, f"exit {result.returncode}: {last_line(result.stderr, result.stdout)}")
    return result


@dataclass(frozen=True)
class FormatResult:
    path: Path
    syntax_errors: tuple[tuple[int, int, str], ...]  # line, column, message: jorje's parse errors
    formatted: str | None  # prettier's output, when the file parses and formats
    format_error: str | None


def parse_and_format(toolchain: Toolchain, root: Path, files: list[Path]) -> list[FormatResult]:
    """Parse ``files`` with jorje and format those that parse with prettier-plugin-apex.

    jorje runs in one JVM (JorjeBatch) whose ASTs stream into one Node process (prettier_format.mjs), so
    every file is parsed once, with no process per file, while Node formats the files already parsed.
    Formatting follows the project's .prettierrc (any format prettier reads, overrides included); files
    it does not format with prettier-plugin-apex are parsed but not formatted.
    """
    if not files:
        return []
    classpath = [jorje_batch_classes(toolchain), toolchain.serializer_lib / "*"]
    config = root / PRETTIER_CONFIG
    absolute = [str(f.resolve()) for f in files]
    request = {
        "nodeModules": str(toolchain.node_modules),
        "files": absolute,
        "prettierConfig": str(config) if config.exists() else None,
    }
    with tempfile.TemporaryDirectory(prefix="apexgen-format-") as scratch:
        paths, request_file = Path(scratch, "paths.txt"), Path(scratch, "request.json")
        paths.write_text("".join(f"{path}\n" for path in absolute), "utf-8")
        request_file.write_text(json.dumps(request), "utf-8")
        with (
            resources.as_file(resources.files("apexgen.check").joinpath(PRETTIER_SCRIPT)) as script,
            open(paths, "rb") as path_list,
            tempfile.TemporaryFile() as jorje_log,
            tempfile.TemporaryFile() as node_log,
        ):
            try:
                jorje = subprocess.Popen(
                    java_command(classpath, [JORJE_BATCH]), stdin=path_list, stdout=subprocess.PIPE, stderr=jorje_log
                )
            except OSError as exc:
                raise ToolFailedError("jorje", str(exc)) from None
            try:
                node = subprocess.Popen(
                    ["node", str(script), str(request_file)],
                    stdin=jorje.stdout,
                    stdout=subprocess.PIPE,
                    stderr=node_log,
                    cwd=root,
                )
            except OSError as exc:
                jorje.kill()
                raise ToolFailedError("prettier", str(exc)) from None
            finally:
                if jorje.stdout is not None:  # always: stdout=PIPE
                    jorje.stdout.close()  # Node holds the pipe now; jorje sees it close if Node stops
            output, _ = node.communicate()
            jorje.wait()
            jorje_log.seek(0)
            node_log.seek(0)
            jorje_errors, node_errors = jorje_log.read(), node_log.read()
    try:
        report = json.loads(output)
    except ValueError:
        report = {}
    if "configError" in report:
        raise UsageError(f"{PRETTIER_CONFIG}: cannot be read: {report['configError']}")
    # When Node fails first, jorje fails too, writing into the closed pipe: blame the one that started it.
    if node.returncode not in (0, JORJE_STOPPED_EXIT) or (node.returncode == 0 and "files" not in report):
        raise ToolFailedError("prettier", f"exit {node.returncode}: {last_line(node_errors, output)}")
    if jorje.returncode != 0 or node.returncode == JORJE_STOPPED_EXIT:
        raise ToolFailedError("jorje", f"exit {jorje.returncode}: {last_line(jorje_errors)}")
    return [
        FormatResult(
            Path(r["path"]),
            tuple((line, column, message) for line, column, message in r["syntaxErrors"]),
            r["formatted"],
            r["formatError"],
        )
        for r in report["files"]
    ]


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


def jorje_prettier_findings(toolchain: Toolchain, project: ProjectFiles, files: list[Path]) -> list[Finding]:
    """Syntax errors from jorje, then formatting warnings from prettier on the files that parse."""
    findings = []
    for result in parse_and_format(toolchain, project.root, files):
        file = project.relative(result.path)
        for line, column, message in result.syntax_errors:
            findings.append(Finding(file, line, column, "error", "jorje", "syntax", message))
        if result.format_error:
            findings.append(Finding(file, 0, 0, "warning", "prettier", "format-failed", result.format_error))
        elif result.formatted is not None:
            line = first_difference(result.path.read_text("utf-8", errors="replace"), result.formatted)
            if line:
                message = "not formatted as prettier-plugin-apex would format it, from this line on"
                findings.append(Finding(file, line, 0, "warning", "prettier", "format", message))
    return findings


def apex_ls_findings(toolchain: Toolchain, project: ProjectFiles, use_cache: bool = True) -> list[Finding]:
    """apex-ls CheckForIssues over the whole SFDX project: syntax, undefined names, wrong types."""
    # apex-ls recurses deeply on long expressions: a larger thread stack, as apex-ls' own launchers use.
    # apex-ls keeps what it learnt of each file in a cache keyed by the file's content (its default; here
    # in apexgen's cache, which apex-ls does not create itself): a file that did not change is not parsed
    # again, and dependants are still re-checked against what changed.
    cache_option = ["-n"]
    if use_cache:
        cache_dir = check_cache_dir() / "apex-ls"
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            cache_option = ["-c", str(cache_dir)]
        except OSError:
            pass
    arguments = ["-Xss16m", APEX_LS_MAIN, *cache_option, "-w", str(project.root), "-f", "json"]
    result = run_java("apex-ls", toolchain, arguments, ok_codes=(0, APEX_LS_ISSUES_EXIT))
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise ToolFailedError("apex-ls", f"unreadable report: {last_line(result.stderr, result.stdout)}") from None
    findings = []
    for file_report in report.get("files", []):
        file = project.relative(file_report["path"])
        for message in file_report.get("messages", []):
            start = message.get("start", {})
            category = message.get("category", "Error")
            severity = "warning" if category in APEX_LS_WARNING_CATEGORIES else "error"
            # apex-ls offsets are 0-based columns.
            # Messages name files by absolute path; the project-relative one reads the same anywhere.
            text = message.get("message", "").replace(f"{project.root}{os.sep}", "")
            findings.append(
                Finding(file, start.get("line", 0), start.get("offset", -1) + 1, severity, "apex-ls", category, text)
            )
    return findings


@cache
def pmd_rule_categories(java_lib: Path) -> dict[str, str]:
    """Rule name -> category (bestpractices, security, ...) from the rule files inside pmd-apex's jar."""
    import zipfile

    from lxml import etree

    (jar,) = java_lib.glob("pmd-apex-*.jar")
    categories: dict[str, str] = {}
    with zipfile.ZipFile(jar) as archive:
        for category in PMD_CATEGORIES:
            ruleset = etree.fromstring(archive.read(f"category/apex/{category}.xml"))
            for rule in ruleset.iter("{*}rule"):
                name = rule.get("name")
                if name and not rule.get("ref"):
                    categories[name] = category
    return categories


def validate_pmd_categories(categories: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(c.strip() for c in categories if c.strip()))
    unknown = [c for c in chosen if c not in PMD_CATEGORIES]
    if unknown:
        raise UsageError(
            f"--pmd-rules: unknown PMD category {', '.join(unknown)}; choose from {', '.join(PMD_CATEGORIES)}"
        )
    return chosen


_PMD_SYNTAX_POSITION = re.compile(r"at (\d+):(\d+)")


def pmd_findings(
    toolchain: Toolchain, project: ProjectFiles, files: list[Path], categories: tuple[str, ...]
) -> list[Finding]:
    """PMD 7 through Salesforce's PmdWrapper: security violations are errors, other categories warnings."""
    if not categories:
        return []
    rule_category = pmd_rule_categories(toolchain.java_lib)
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
        result = run_java("pmd", toolchain, [PMD_MAIN, "run", str(input_path), str(output_path)])
        try:
            report = json.loads(output_path.read_text("utf-8"))
        except (OSError, ValueError):
            raise ToolFailedError("pmd", f"no readable report: {last_line(result.stderr, result.stdout)}") from None
    findings = []
    for violation in report.get("violations", []):
        location = violation["codeLocation"]
        rule = violation["rule"]
        severity = "error" if rule_category.get(rule) == PMD_ERROR_CATEGORY else "warning"
        findings.append(
            Finding(
                project.relative(location["file"]),
                location["startLine"],
                location["startCol"],
                severity,
                "pmd",
                rule,
                violation["message"],
            )
        )
    for error in report.get("processingErrors", []):
        # PMD parses with its own grammar; a file it cannot parse is one its rules did not see. jorje,
        # Salesforce's parser, is the judge of syntax, so this is only a warning.
        message = error["message"].strip().splitlines()[-1]
        position = _PMD_SYNTAX_POSITION.search(message)
        line, column = (int(position[1]), int(position[2]) + 1) if position else (0, 0)
        findings.append(
            Finding(
                project.relative(error["file"]),
                line,
                column,
                "warning",
                "pmd",
                "ProcessingError",
                f"PMD rules did not run: {message}",
            )
        )
    return findings


def merge_syntax_findings(findings: list[Finding]) -> list[Finding]:
    """Let jorje, Salesforce's own parser, judge syntax.

    apex-ls and PMD parse with grammars of their own. On a file jorje rejects, their syntax complaints
    repeat jorje's and are dropped; on a file jorje accepts, apex-ls' complaint is kept as a warning
    (its grammar may lag the platform's).
    """
    rejected = {f.file for f in findings if f.tool == "jorje" and f.rule == "syntax"}
    merged = []
    for finding in findings:
        other_parser = (finding.tool, finding.rule) in {("apex-ls", "Syntax"), ("pmd", "ProcessingError")}
        if other_parser and finding.file in rejected:
            continue
        if other_parser and finding.severity == "error":
            finding = replace(finding, severity="warning")
        merged.append(finding)
    return merged


def deep_checks(
    toolchain: Toolchain, project: ProjectFiles, pmd_rules: tuple[str, ...], use_cache: bool
) -> list[Callable[[], list[Finding]]]:
    """The deep tools as independent jobs, to run in parallel.

    jorje, prettier and PMD judge each file alone (PMD's rules do unless PMD_APEX_ROOT_DIRECTORY turns on
    its cross-file analysis), so with ``use_cache`` they look only at files changed since the last check.
    """
    files = project.apex_files()
    if not files:
        return []
    # What else each per-file tool's verdict depends on; None: not cached.
    prettier_settings = pmd_settings = None
    if use_cache:
        config = project.root / PRETTIER_CONFIG
        prettier_settings = config.read_text("utf-8", errors="replace") if config.exists() else ""
        pmd_settings = ",".join(pmd_rules) if "PMD_APEX_ROOT_DIRECTORY" not in os.environ else None

    def jorje_prettier() -> list[Finding]:
        return cached(
            "jorje-prettier", project, files, prettier_settings, partial(jorje_prettier_findings, toolchain, project)
        )

    def pmd() -> list[Finding]:
        return cached(
            "pmd", project, files, pmd_settings, partial(pmd_findings, toolchain, project, categories=pmd_rules)
        )

    def apex_ls() -> list[Finding]:
        return apex_ls_findings(toolchain, project, use_cache)

    jobs = [jorje_prettier, pmd] if pmd_rules else [jorje_prettier]
    if (project.root / SFDX_PROJECT_FILE).exists():  # apex-ls only reads SFDX projects
        jobs.append(apex_ls)
    return jobs
