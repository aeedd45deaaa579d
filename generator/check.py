"""Stage 5: check an SFDX project offline, with Salesforce's own tools, before anything reaches an org.

The fast check is pure Python: the spec, the generated files against the manifest, every metadata XML
file against the Metadata API XSD (see ``generator.xsd``), source/meta pairing, ``sfdx-project.json``
against Salesforce's JSON Schema, and API versions. The deep check adds, in parallel, jorje (Salesforce's
Apex parser) with prettier-plugin-apex, apex-ls (semantic analysis, including the ``aiplatform`` types)
and PMD 7 (security rules as errors, other categories as warnings). Every problem becomes a ``Finding``;
the caller decides what to print and how to exit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass, replace
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

from generator.errors import ApexgenError, SpecError, UsageError
from generator.findings_cache import FindingsCache, check_cache_dir
from generator.toolchain import JORJE_BATCH, Toolchain, jorje_batch_classes, require_toolchain

SPEC_FILE = "apexgen.toml"
SFDX_PROJECT = "sfdx-project.json"
PRETTIER_CONFIG = ".prettierrc"
METADATA_NS = "http://soap.sforce.com/2006/04/metadata"
APEX_SUFFIXES = (".cls", ".trigger")
META_SUFFIX = "-meta.xml"
# The root element a metadata file must have, by the end of its name (source format).
ROOT_ELEMENT_BY_SUFFIX = {
    ".cls-meta.xml": "ApexClass",
    ".trigger-meta.xml": "ApexTrigger",
    ".js-meta.xml": "LightningComponentBundle",
    ".flow-meta.xml": "Flow",
    ".object-meta.xml": "CustomObject",
    ".field-meta.xml": "CustomField",
    ".permissionset-meta.xml": "PermissionSet",
    "package.xml": "Package",
}
# Folders that never hold project source: tool caches, VCS data, installed packages.
SKIPPED_DIRS = {"node_modules", ".git", ".sfdx", ".sf", ".apexgen", "__pycache__"}

PMD_CATEGORIES = ("bestpractices", "codestyle", "design", "documentation", "errorprone", "multithreading", "performance", "security")
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


@dataclass(frozen=True, order=True)
class Finding:
    file: str  # path relative to the project root, posix
    line: int  # 1-based; 0 when the finding is about the whole file
    column: int  # 1-based; 0 when unknown
    severity: str  # "error" | "warning"
    tool: str  # spec | manifest | xsd | sfdx-schema | meta | jorje | apex-ls | pmd | prettier
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column} {self.severity} {self.tool} {self.rule} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ToolFailedError(ApexgenError):
    """A checking tool crashed or answered in a way that cannot be read: its result is unknown."""

    def __init__(self, tool: str, reason: str):
        super().__init__(f"{tool} failed: {reason}")


def last_line(*outputs: str | bytes) -> str:
    """The last non-blank line of the first output that has one: what a failing tool said last."""
    for output in outputs:
        text = output.decode(errors="replace") if isinstance(output, bytes) else output or ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no output"


def summarize(findings: list[Finding]) -> dict[str, int]:
    errors = sum(1 for f in findings if f.severity == "error")
    return {"errors": errors, "warnings": len(findings) - errors}


# --- the project -------------------------------------------------------------------------------


@dataclass
class Project:
    root: Path
    package_dirs: list[Path]
    source_api_version: str | None

    def relative(self, path: Path | str) -> str:
        return Path(os.path.relpath(Path(path).resolve(), self.root)).as_posix()

    def files(self, keep: Callable[[str], bool]) -> list[Path]:
        """Files under the package directories whose name ``keep`` accepts, sorted."""
        found: set[Path] = set()
        for package_dir in self.package_dirs:
            for folder, dirs, names in os.walk(package_dir):
                dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
                found.update(Path(folder, name) for name in names if keep(name))
        return sorted(found)

    def apex_files(self) -> list[Path]:
        return self.files(lambda name: name.endswith(APEX_SUFFIXES))


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def json_positions(text: str) -> dict[tuple[str | int, ...], int]:
    """Offset at which each member (its key) or array item of the valid JSON ``text`` starts, by path."""
    from json.decoder import scanstring  # type: ignore[attr-defined]  # public, but not in typeshed

    decoder = json.JSONDecoder()
    positions: dict[tuple[str | int, ...], int] = {}

    def skip(index: int) -> int:
        while index < len(text) and text[index] in " \t\n\r":
            index += 1
        return index

    def value(index: int, path: tuple[str | int, ...]) -> int:
        index = skip(index)
        opening = text[index]
        if opening not in "{[":
            return decoder.raw_decode(text, index)[1]
        closing = "}" if opening == "{" else "]"
        index = skip(index + 1)
        item = 0
        while text[index] != closing:
            if opening == "{":
                key, after_key = scanstring(text, index + 1)
                positions[path + (key,)] = index
                index = value(skip(after_key) + 1, path + (key,))  # + 1 skips the colon
            else:
                positions[path + (item,)] = index
                index = value(index, path + (item,))
                item += 1
            index = skip(index)
            if text[index] == ",":
                index = skip(index + 1)
        return index + 1

    value(0, ())
    return positions


@cache
def sfdx_project_schema() -> dict[str, Any]:
    """Salesforce's JSON Schema of sfdx-project.json (a copy from @salesforce/schemas, see schemas/README.md)."""
    text = resources.files("generator").joinpath("schemas", "sfdx-project.schema.json").read_text("utf-8")
    return json.loads(text)


def check_sfdx_project(root: Path) -> tuple[list[Finding], Project]:
    """Findings for sfdx-project.json and the project it describes (its package directories).

    When the file cannot be read, the package directories are the root itself, so the rest of the
    project is still checked.
    """
    from jsonschema import Draft7Validator

    root = root.resolve()
    fallback = Project(root, [root], None)
    path = root / SFDX_PROJECT
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return [Finding(SFDX_PROJECT, 0, 0, "error", "sfdx-schema", "missing", "not found: this is not an SFDX project")], fallback
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding(SFDX_PROJECT, 0, 0, "error", "sfdx-schema", "unreadable", str(exc))], fallback
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [Finding(SFDX_PROJECT, exc.lineno, exc.colno, "error", "sfdx-schema", "json", f"not valid JSON: {exc.msg}")], fallback

    positions = json_positions(text)

    def finding(at: tuple[str | int, ...], rule: str, message: str) -> Finding:
        while at and at not in positions:
            at = at[:-1]
        line, column = _line_col(text, positions[at]) if at else (1, 1)
        pointer = "/" + "/".join(str(p) for p in at)
        return Finding(SFDX_PROJECT, line, column, "error", "sfdx-schema", rule, f"{pointer}: {message}")

    findings = []
    for error in Draft7Validator(sfdx_project_schema()).iter_errors(data):
        if error.context:  # anyOf/oneOf: the deepest error of the branches names the offending value
            error = max(error.context, key=lambda e: len(e.absolute_path))
        at = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            patterns = error.schema.get("patternProperties", {})
            for key in error.instance:
                if key not in allowed and not any(re.search(p, key) for p in patterns):
                    findings.append(finding(at + (key,), "unknown-key", f"'{key}' is not a known key here"))
        else:
            findings.append(finding(at, str(error.validator), error.message))

    package_dirs = []
    if isinstance(data, dict) and isinstance(data.get("packageDirectories"), list):
        for index, entry in enumerate(data["packageDirectories"]):
            directory = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(directory, str):
                continue
            if (root / directory).is_dir():
                package_dirs.append((root / directory).resolve())
            else:
                findings.append(finding(("packageDirectories", index, "path"), "path", f"package directory '{directory}' does not exist"))
    version = data.get("sourceApiVersion") if isinstance(data, dict) else None
    project = Project(root, package_dirs, version if isinstance(version, str) else None)
    return findings, project


# --- fast checks -------------------------------------------------------------------------------


def check_spec(root: Path) -> tuple[list[Finding], Any]:
    """Findings for apexgen.toml, when the project has one, and the spec (None when absent or invalid)."""
    from generator.spec import load_spec

    if not (root / SPEC_FILE).exists():
        return [], None
    try:
        return [], load_spec(root / SPEC_FILE)
    except SpecError as exc:
        message = f"{exc.key}: {exc.rule}" if exc.key else exc.rule
        return [Finding(SPEC_FILE, 0, 0, "error", "spec", "invalid", message)], None


def check_manifest(root: Path) -> list[Finding]:
    """Generated files (from .apexgen/manifest.json) that are missing (error) or edited by hand (warning).

    An edited file may well be valid, so it does not fail the check; but the next ``apexgen generate``
    stops on it (exit 3) unless forced, which is worth knowing before then.
    """
    from generator.write import generated_file_states

    findings = []
    for path, state in generated_file_states(root):
        if state == "missing":
            findings.append(Finding(path, 0, 0, "error", "manifest", "missing", "generated file is missing; 'apexgen generate' restores it"))
        elif state == "edited":
            findings.append(Finding(path, 0, 0, "warning", "manifest", "edited", "edited by hand since 'apexgen generate' wrote it; the next generate stops here unless --force"))
    return findings


def check_meta_pairs(project: Project) -> list[Finding]:
    """Every .cls/.trigger has its -meta.xml, and every .cls-meta.xml/.trigger-meta.xml its source."""
    findings = []
    for path in project.files(lambda name: name.endswith(APEX_SUFFIXES) or name.endswith(tuple(s + META_SUFFIX for s in APEX_SUFFIXES))):
        if path.name.endswith(META_SUFFIX):
            if not path.with_name(path.name[: -len(META_SUFFIX)]).exists():
                findings.append(Finding(project.relative(path), 0, 0, "error", "meta", "orphan-meta", f"no source file {path.name[: -len(META_SUFFIX)]} beside this meta file"))
        elif not path.with_name(path.name + META_SUFFIX).exists():
            findings.append(Finding(project.relative(path), 0, 0, "error", "meta", "missing-meta", f"{path.name}{META_SUFFIX} is missing; the Metadata API does not deploy a source file without it"))
    return findings


def _expected_root(name: str) -> str | None:
    return next((root for suffix, root in ROOT_ELEMENT_BY_SUFFIX.items() if name.endswith(suffix)), None)


def _same_version(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


def check_metadata_xml(project: Project, spec: Any) -> list[Finding]:
    """Every metadata XML file validates against the Metadata API XSD; API versions agree."""
    from lxml import etree

    from generator.xsd import metadata_schema

    files = project.files(lambda name: name.endswith(META_SUFFIX) or name == "package.xml")
    findings = []
    source_version = project.source_api_version
    if spec is not None and source_version and not _same_version(spec.project.api_version, source_version):
        findings.append(Finding(SPEC_FILE, 0, 0, "warning", "meta", "api-version", f"project.api_version {spec.project.api_version} differs from sourceApiVersion {source_version} in {SFDX_PROJECT}"))
    documents = []
    for path in files:
        file = project.relative(path)
        try:
            document = etree.parse(str(path))
        except etree.XMLSyntaxError as exc:
            line, column = exc.position
            findings.append(Finding(file, line, column, "error", "xsd", "not-well-formed", exc.msg))
            continue
        root = document.getroot()
        name = etree.QName(root)
        expected = _expected_root(path.name)
        if name.namespace != METADATA_NS:
            findings.append(Finding(file, root.sourceline, 0, "error", "xsd", "namespace", f"root <{root.tag}> must be in namespace {METADATA_NS}"))
        elif expected and name.localname != expected:
            findings.append(Finding(file, root.sourceline, 0, "error", "xsd", "root-element", f"root element is <{name.localname}>; a {path.name.split('.', 1)[-1]} file needs <{expected}>"))
        else:
            documents.append((path, file, document))
    schema = metadata_schema(frozenset(etree.QName(d.getroot()).localname for _, _, d in documents))
    for path, file, document in documents:
        if not schema.validate(document):
            for error in schema.error_log:
                message = error.message.replace(f"{{{METADATA_NS}}}", "")  # every element is in it
                findings.append(Finding(file, error.line, error.column, "error", "xsd", "schema", message))
            continue
        version_tag = "version" if path.name == "package.xml" else "apiVersion"
        version = document.getroot().find(f"{{{METADATA_NS}}}{version_tag}")
        if source_version and version is not None and version.text and not _same_version(version.text, source_version):
            findings.append(Finding(file, version.sourceline, 0, "warning", "meta", "api-version", f"{version_tag} {version.text} differs from sourceApiVersion {source_version} in {SFDX_PROJECT}"))
    return findings


def project_checks(project: Project) -> list[Finding]:
    """The fast checks other than sfdx-project.json's own (which ``check_sfdx_project`` makes)."""
    findings, spec = check_spec(project.root)
    findings += check_manifest(project.root)
    findings += check_meta_pairs(project)
    findings += check_metadata_xml(project, spec)
    return findings


# --- deep checks -------------------------------------------------------------------------------


def java_command(classpath: list[Path], arguments: list[str]) -> list[str]:
    return ["java", *JVM_OPTIONS, "-cp", os.pathsep.join(map(str, classpath)), *arguments]


def run_java(tool: str, toolchain: Toolchain, arguments: list[str], ok_codes: Iterable[int] = (0,)) -> subprocess.CompletedProcess[str]:
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
    request = {"nodeModules": str(toolchain.node_modules), "files": absolute, "prettierConfig": str(config) if config.exists() else None}
    with tempfile.TemporaryDirectory(prefix="apexgen-format-") as scratch:
        paths, request_file = Path(scratch, "paths.txt"), Path(scratch, "request.json")
        paths.write_text("".join(f"{path}\n" for path in absolute), "utf-8")
        request_file.write_text(json.dumps(request), "utf-8")
        with (
            resources.as_file(resources.files("generator").joinpath(PRETTIER_SCRIPT)) as script,
            open(paths, "rb") as path_list,
            tempfile.TemporaryFile() as jorje_log,
            tempfile.TemporaryFile() as node_log,
        ):
            try:
                jorje = subprocess.Popen(java_command(classpath, [JORJE_BATCH]), stdin=path_list, stdout=subprocess.PIPE, stderr=jorje_log)
            except OSError as exc:
                raise ToolFailedError("jorje", str(exc)) from None
            try:
                node = subprocess.Popen(["node", str(script), str(request_file)], stdin=jorje.stdout, stdout=subprocess.PIPE, stderr=node_log, cwd=root)
            except OSError as exc:
                jorje.kill()
                raise ToolFailedError("prettier", str(exc)) from None
            finally:
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
        FormatResult(Path(r["path"]), tuple((line, column, message) for line, column, message in r["syntaxErrors"]), r["formatted"], r["formatError"])
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
    return next((i + 1 for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)) + 1)


def cached(tool: str, project: Project, files: list[Path], settings: str | None, run: Callable[[list[Path]], list[Finding]]) -> list[Finding]:
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


def jorje_prettier_findings(toolchain: Toolchain, project: Project, files: list[Path]) -> list[Finding]:
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


def apex_ls_findings(toolchain: Toolchain, project: Project, use_cache: bool = True) -> list[Finding]:
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
            findings.append(Finding(file, start.get("line", 0), start.get("offset", -1) + 1, severity, "apex-ls", category, text))
    return findings


@cache
def pmd_rule_categories(java_lib: Path) -> dict[str, str]:
    """Rule name -> category (bestpractices, security, ...) from the rule files inside pmd-apex's jar."""
    import zipfile

    from lxml import etree

    (jar,) = java_lib.glob("pmd-apex-*.jar")
    categories = {}
    with zipfile.ZipFile(jar) as archive:
        for category in PMD_CATEGORIES:
            ruleset = etree.fromstring(archive.read(f"category/apex/{category}.xml"))
            for rule in ruleset.iter("{*}rule"):
                if rule.get("name") and not rule.get("ref"):
                    categories[rule.get("name")] = category
    return categories


def validate_pmd_categories(categories: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(c.strip() for c in categories if c.strip()))
    unknown = [c for c in chosen if c not in PMD_CATEGORIES]
    if unknown:
        raise UsageError(f"--pmd-rules: unknown PMD category {', '.join(unknown)}; choose from {', '.join(PMD_CATEGORIES)}")
    return chosen


_PMD_SYNTAX_POSITION = re.compile(r"at (\d+):(\d+)")


def pmd_findings(toolchain: Toolchain, project: Project, files: list[Path], categories: tuple[str, ...]) -> list[Finding]:
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
        request = {"ruleSetInputFile": str(ruleset_path), "runDataPerLanguage": {"apex": {"filesToScan": [str(f.resolve()) for f in files]}}}
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
        findings.append(Finding(project.relative(location["file"]), location["startLine"], location["startCol"], severity, "pmd", rule, violation["message"]))
    for error in report.get("processingErrors", []):
        # PMD parses with its own grammar; a file it cannot parse is one its rules did not see. jorje,
        # Salesforce's parser, is the judge of syntax, so this is only a warning.
        message = error["message"].strip().splitlines()[-1]
        position = _PMD_SYNTAX_POSITION.search(message)
        line, column = (int(position[1]), int(position[2]) + 1) if position else (0, 0)
        findings.append(Finding(project.relative(error["file"]), line, column, "warning", "pmd", "ProcessingError", f"PMD rules did not run: {message}"))
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


def deep_checks(toolchain: Toolchain, project: Project, pmd_rules: tuple[str, ...], use_cache: bool) -> list[Callable[[], list[Finding]]]:
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
        return cached("jorje-prettier", project, files, prettier_settings, partial(jorje_prettier_findings, toolchain, project))

    def pmd() -> list[Finding]:
        return cached("pmd", project, files, pmd_settings, partial(pmd_findings, toolchain, project, categories=pmd_rules))

    def apex_ls() -> list[Finding]:
        return apex_ls_findings(toolchain, project, use_cache)

    jobs = [jorje_prettier, pmd] if pmd_rules else [jorje_prettier]
    if (project.root / SFDX_PROJECT).exists():  # apex-ls only reads SFDX projects
        jobs.append(apex_ls)
    return jobs


def run_checks(root: Path, deep: bool = False, pmd_rules: Iterable[str] = DEFAULT_PMD_CATEGORIES, use_cache: bool = True) -> list[Finding]:
    """Check the project at ``root``; every finding, sorted by file and line.

    ``deep`` adds jorje, prettier, apex-ls and PMD (``pmd_rules``: PMD categories; security findings
    are errors, the others warnings); with ``use_cache`` they reuse what the last deep check learnt of
    unchanged files. Raises ToolsMissingError when ``deep`` and the tools are missing,
    ToolFailedError when a tool crashes, UsageError on a bad ``pmd_rules`` or .prettierrc.
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
        findings += project_checks(project)  # while the tools run
        for job in running:
            findings += job.result()
    # A tool may report one problem twice (lxml's error log does for some XSD errors).
    return sorted(set(merge_syntax_findings(findings)))
