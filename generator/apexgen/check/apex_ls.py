"""apex-ls (CheckForIssues) over the whole project, and which of its findings are deploy blockers.

apex-ls models the platform from its own type library (standard-types 65): it knows the language, the
sObjects by name and the ``aiplatform`` namespace well, but not every platform type (DataWeave,
``Flow.Interview.*``, ``System.Quiddity.UNDEFINED``, ...), some it knows wrongly (``Cache.SessionPartition``
is a ``Cache.Partition`` on the platform), and none of an installed package's. So a finding is a deploy
blocker only where apex-ls is certain: it is about the project's own code and every type it names is one
apex-ls models exactly (the project's own, the primitives and collections, sObjects, ``aiplatform``).
The others are rule findings ("moderate": the org decides), never blockers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from apexgen.check.cache import ProjectCache, check_cache_dir
from apexgen.check.daemon import Daemon, DaemonError
from apexgen.check.findings import (
    APEX_SUFFIXES,
    BLOCKER,
    UTF8_BOM,
    Finding,
    ProjectFiles,
    ToolFailedError,
    last_line,
    not_run,
    starts_with_bom,
)
from apexgen.check.jvm import LARGE_STACK, run_java
from apexgen.check.toolchain import Toolchain
from apexgen.salesforce import SFDX_PROJECT_FILE

APEX_LS_MAIN = "io.github.apexdevtools.apexls.CheckForIssues"
APEX_LS_ISSUES_EXIT = 4
UNCERTAIN = "moderate"
# apex-ls' advisory categories (reported with its default detail level only as errors are).
ADVISORY = {"Warning": "low", "Unused": "low"}
UNCERTAIN_NOTE = " (apex-ls may not know this platform or package type; not a deploy blocker)"
PROJECT_FILE_NOTE = " (apex-ls' own rule for sfdx-project.json; a deploy does not read this file)"
# The probe planted in each package directory apex-ls loads (``apex_ls_workspace``).
PROBE_PREFIX = "ApexgenCheckProbe"
PROBE_METHOD = "apexgenProbeNotDefined"
PROBE_META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">\n'
    "    <apiVersion>60.0</apiVersion>\n    <status>Active</status>\n</ApexClass>\n"
)
# The platform types apex-ls models exactly, besides the project's own: primitives and collections
# (bare or in System), every sObject (Schema), and the Models API (aiplatform, all 43 of its classes).
EXACT_SYSTEM_TYPES = {
    "string",
    "integer",
    "long",
    "decimal",
    "double",
    "boolean",
    "date",
    "datetime",
    "time",
    "id",
    "blob",
    "object",
    "list",
    "set",
    "map",
    "sobject",
    "void",
}
EXACT_NAMESPACES = {"schema", "aiplatform"}
_TYPE_CHAIN = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# Message shapes whose quoted names are the types the verdict depends on.
_NAMED_TYPES = (
    re.compile(r"No type declaration found for '([^']+)'"),
    re.compile(r" on '([^']+)'"),
    re.compile(r"from '([^']+)' to '([^']+)'"),
    re.compile(r"'([^']+)' is not assignable to '([^']+)'"),
    re.compile(r"Constructor not defined: ([\w.]+)\.<constructor>"),
)
# Argument types of a call apex-ls found no match for. 'Object' there is what apex-ls says of an expression
# it could not type (e.g. a platform field it does not know), so it makes the verdict uncertain too.
_ARGUMENTS = (re.compile(r"taking arguments '([^']*)'"), re.compile(r"<constructor>\(([^)]*)\)"))
UNTYPED = {"object", "system.object"}
_UNKNOWN_NAME = re.compile(r"No variable or type found for '([^']+)'")
_SOBJECT_FIELD = re.compile(r"Unknown field '([^']+)' on SObject '(?:Schema\.)?([^']+)'")
_EXCEPTION_NAME = re.compile(r"Exception class '([^']+)' must extend another Exception class")
_SPLIT_OBJECT = re.compile(
    r"Components of type '(?:Schema\.)?([^']+)' are defined, but the required object-meta.xml file is missing"
)
OBJECT_META = ".object-meta.xml"


class ProjectTypes:
    """The names (lower case) of the Apex types and sObjects the project defines."""

    def __init__(self, project: ProjectFiles):
        self.namespace = (project.namespace or "").lower()
        self.apex = {path.stem.lower() for path in project.apex_files()}
        self.objects = {
            path.name[: -len(OBJECT_META)].lower() for path in project.files(lambda n: n.endswith(OBJECT_META))
        }

    def own(self, name: str) -> list[str]:
        """``name``'s parts, lower case, without the project's own namespace."""
        parts = name.lower().split(".")
        return parts[1:] if self.namespace and len(parts) > 1 and parts[0] == self.namespace else parts

    def exact(self, name: str) -> bool:
        """Whether apex-ls models the type ``name`` exactly (see the module's docstring)."""
        parts = self.own(name)
        if parts[0] in self.apex or parts[-1] in EXACT_SYSTEM_TYPES and parts[:-1] in ([], ["system"]):
            return True
        return len(parts) > 1 and parts[0] in EXACT_NAMESPACES

    def own_name(self, name: str) -> bool:
        """Whether ``name`` (the first part of a dotted name) is meant as one of the project's own: it carries
        the project's namespace, or is a type of the project's or close to one (a typo)."""
        import difflib

        first = name.split(".")[0].lower()
        if self.namespace and (first == self.namespace or first.startswith(f"{self.namespace}__")):
            return True
        return first in self.apex or bool(difflib.get_close_matches(first, self.apex, n=1, cutoff=0.85))

    def own_custom_field(self, sobject: str, field: str) -> bool:
        """Whether ``field`` is a custom field (of no other namespace) of an sObject the project defines."""
        parts = self.own(field.replace("__", "."))  # ns__Field__c -> ns.field.c
        return sobject.lower() in self.objects and field.lower().endswith("__c") and len(parts) == 2


def certainty(message: str, file: Path, types: ProjectTypes) -> str | None:
    """BLOCKER when apex-ls is certain of ``message`` about ``file``, UNCERTAIN when it may be wrong,
    None when it is wrong for certain (a split object whose object-meta.xml the project has)."""
    split = _SPLIT_OBJECT.search(message)
    if split:
        return None if split[1].lower() in types.objects else UNCERTAIN  # else the object may be in the org
    field = _SOBJECT_FIELD.search(message)
    if field:
        return BLOCKER if types.own_custom_field(field[2], field[1]) else UNCERTAIN
    exception = _EXCEPTION_NAME.search(message)
    if exception:
        # apex-ls applies the rule to interfaces too; the platform does not (NebulaLogger shadows System
        # exceptions with interfaces of their names).
        source = file.read_text("utf-8", errors="replace") if file.is_file() else ""
        declared_interface = re.search(rf"\binterface\s+{re.escape(exception[1])}\b", source, re.IGNORECASE)
        return UNCERTAIN if declared_interface else BLOCKER
    unknown = _UNKNOWN_NAME.search(message)
    member = " on '" in message and not unknown[1][:1].isupper() if unknown else False  # a field of a type
    if unknown and not member and not types.own_name(unknown[1]):
        # A name the project does not define may be a type or namespace of the platform or of a package the
        # target org has installed (fflib_*, di_* from a CI's install), whatever its case; a name close to one
        # of the project's own types, or carrying the project's namespace, is the project's own mistake.
        return UNCERTAIN
    for shape in _ARGUMENTS:
        for arguments in shape.findall(message):
            if any(chain.lower() in UNTYPED for chain in _TYPE_CHAIN.findall(arguments)):
                return UNCERTAIN
    for shape in _NAMED_TYPES:
        for named in shape.findall(message):
            for name in (named,) if isinstance(named, str) else named:
                if not all(types.exact(chain) for chain in _TYPE_CHAIN.findall(name)):
                    return UNCERTAIN
    return BLOCKER


@dataclass(frozen=True)
class Workspace:
    """What apex-ls is pointed at: ``path``, and the probe class planted in each package directory it should
    load (none when the project cannot be mirrored, see ``apex_ls_workspace``)."""

    path: Path
    probes: dict[Path, str]  # package directory (in the project) -> probe class name


def probe_name(project: ProjectFiles, package_dir: Path) -> str:
    """The probe class of ``package_dir``: a name no project is likely to use, stable between checks."""
    return PROBE_PREFIX + hashlib.sha256(project.relative(package_dir).encode()).hexdigest()[:12]


def probe_source(name: str) -> str:
    """A class with one defect apex-ls always reports once it analyses the class: a call to a missing method."""
    return f"public with sharing class {name} {{\n    static void probe() {{\n        {name}.{PROBE_METHOD}();\n    }}\n}}\n"


def mirror_dir(project: ProjectFiles) -> Path:
    """The stable folder where the project's apex-ls workspace is mirrored between checks (so apex-ls' cache
    and the check daemon keep their model of it)."""
    return check_cache_dir() / "workspaces" / hashlib.sha256(str(project.root).encode()).hexdigest()[:16]


def mirrored_project(workspace: Path) -> Path:
    """The project folder a mirror stands for (its sfdx-project.json links there), else ``workspace`` itself."""
    settings = workspace / SFDX_PROJECT_FILE
    return settings.resolve().parent if settings.is_symlink() else workspace


@contextmanager
def apex_ls_workspace(project: ProjectFiles, stable: bool) -> Iterator[Workspace]:
    """The project as apex-ls reads it, with a probe class planted in each package directory.

    A mirror of the project's settings files and package directories (symbolic links; Apex files that start
    with a UTF-8 byte order mark, which apex-ls cannot parse, copied without it), plus one probe class per
    package directory. A probe that does not come back in apex-ls' report shows that apex-ls did not analyse
    that directory (it stops early, for instance, on a ``versionNumber`` it does not accept). ``stable``: the
    mirror lives in the cache (``mirror_dir``) and is brought up to date under a lock, else in a temporary
    folder. A package directory outside the project folder cannot be mirrored beside it: apex-ls then reads
    the project as it is, unprobed.
    """
    if not all(directory.is_relative_to(project.root) for directory in project.package_dirs):
        yield Workspace(project.root, {})
        return
    probes = {directory: probe_name(project, directory) for directory in project.package_dirs}
    mirror = mirror_dir(project)
    if stable:
        try:
            mirror.mkdir(parents=True, exist_ok=True)
        except OSError:  # a cache that cannot be written is no error: this check's mirror is temporary
            stable = False
    if not stable:
        with tempfile.TemporaryDirectory(prefix="apexgen-apex-ls-") as scratch:
            _sync_mirror(project, Path(scratch), probes)
            yield Workspace(Path(scratch), probes)
        return
    with open(mirror.parent / f"{mirror.name}.lock", "w") as lock:
        _lock(lock)
        _sync_mirror(project, mirror, probes)
        yield Workspace(mirror, probes)


def _lock(handle: IO[str]) -> None:
    """Hold ``handle``'s file lock until it is closed: one check at a time brings a mirror up to date and reads it."""
    try:
        import fcntl
    except ImportError:  # Windows: no check daemon there, checks of one project rarely overlap
        return
    fcntl.flock(handle, fcntl.LOCK_EX)


def _sync_mirror(project: ProjectFiles, mirror: Path, probes: dict[Path, str]) -> None:
    """Make ``mirror`` hold exactly the project's apex-ls inputs and the probes (see ``apex_ls_workspace``)."""
    wanted: dict[Path, Path | bytes] = {}  # mirror file -> project file to link, or content to write
    for name in (SFDX_PROJECT_FILE, ".forceignore"):
        if (project.root / name).is_file():
            wanted[mirror / name] = project.root / name
    # The files a deploy would take (inside the project, kept by .forceignore): apex-ls reads no other.
    for source in project.files(lambda name: True):
        marked = source.name.endswith(APEX_SUFFIXES) and starts_with_bom(source)
        wanted[mirror / source.relative_to(project.root)] = source.read_bytes()[len(UTF8_BOM) :] if marked else source
    for package_dir in project.package_dirs:
        target = mirror / package_dir.relative_to(project.root)
        name = probes[package_dir]
        wanted[target / f"{name}.cls"] = probe_source(name).encode()
        wanted[target / f"{name}.cls-meta.xml"] = PROBE_META.encode()
    for folder, _, names in os.walk(mirror):
        for name in names:
            if Path(folder, name) not in wanted:
                Path(folder, name).unlink()
    for path, origin in wanted.items():
        if isinstance(origin, Path):
            if path.is_symlink() and os.readlink(path) == str(origin):
                continue
            path.unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(origin)
        elif path.is_symlink() or not path.is_file() or path.read_bytes() != origin:
            path.unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(origin)


def _run(
    toolchain: Toolchain, project: ProjectFiles, use_cache: bool, daemon: Daemon | None, store: ProjectCache | None
) -> list[Finding]:
    with apex_ls_workspace(project, stable=use_cache) as workspace:
        report = None
        if daemon is not None and store is not None and daemon.root == workspace.path:
            # The mirror's paths: relative to the project as walked (a linked folder's files under the link).
            root = project.root
            mirrored = {str(workspace.path / Path(path).relative_to(root)): d for path, d in store.digests.items()}
            report = _from_daemon(daemon, store.settings_key, mirrored)
        if report is None:
            report = _one_shot(toolchain, workspace.path, use_cache)
        return _findings(report, workspace, project, ProjectTypes(project))


def _from_daemon(daemon: Daemon, settings_key: str, digests: dict[str, str]) -> dict[str, Any] | None:
    """apex-ls' report from the daemon, which refreshes the files whose digest changed since it last saw
    them; None when it cannot give one (apex-ls then runs alone)."""
    try:
        reply = daemon.request({"op": "apex-ls", "config": settings_key, "files": digests})
    except DaemonError:
        return None
    report = reply.get("report")
    return report if isinstance(report, dict) else None


def _one_shot(toolchain: Toolchain, workspace: Path, use_cache: bool) -> dict[str, Any]:
    """apex-ls' CheckForIssues report on ``workspace``, from a JVM of its own."""
    cache_option = ["-n"]
    if use_cache:
        cache_dir = check_cache_dir() / "apex-ls"
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            cache_option = ["-c", str(cache_dir)]
        except OSError:
            pass
    arguments = [LARGE_STACK, APEX_LS_MAIN, *cache_option, "-w", str(workspace), "-f", "json"]
    result = run_java("apex-ls", toolchain, arguments, ok_codes=(0, APEX_LS_ISSUES_EXIT))
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        raise ToolFailedError("apex-ls", f"unreadable report: {last_line(result.stderr, result.stdout)}") from None
    return report


def _findings(
    report: dict[str, Any], workspace: Workspace, project: ProjectFiles, types: ProjectTypes
) -> list[Finding]:
    findings = []
    probe_names = set(workspace.probes.values())
    returned = set()
    for file_report in report.get("files", []):
        reported = Path(file_report["path"])
        if reported.name.endswith(".cls") and reported.name[: -len(".cls")] in probe_names:
            if any(PROBE_METHOD in message.get("message", "") for message in file_report.get("messages", [])):
                returned.add(reported.name[: -len(".cls")])
            continue
        root = workspace.path
        path = project.root / reported.relative_to(root) if reported.is_relative_to(root) else reported
        file = project.relative(path)
        if project.ignored(file):
            continue
        for message in file_report.get("messages", []):
            start = message.get("start", {})
            category = message.get("category", "Error")
            # Messages name files by absolute path; the project-relative one reads the same anywhere.
            text = message.get("message", "").replace(f"{root}{os.sep}", "")
            if file == SFDX_PROJECT_FILE:
                # apex-ls' own reading of the project file (a 3-part versionNumber, say): the Metadata API
                # never reads it; the sfdx-schema check holds it to Salesforce's schema.
                severity: str | None = UNCERTAIN
                text += PROJECT_FILE_NOTE
            else:
                severity = ADVISORY.get(category) or certainty(text, path, types)
            if severity is None:
                continue
            if severity == UNCERTAIN and file != SFDX_PROJECT_FILE:
                text += UNCERTAIN_NOTE
            # apex-ls offsets are 0-based columns.
            findings.append(
                Finding(file, start.get("line", 0), start.get("offset", -1) + 1, severity, "apex-ls", category, text)
            )
    return findings + _unprobed(workspace, project, returned)


def _unprobed(workspace: Workspace, project: ProjectFiles, returned: set[str]) -> list[Finding]:
    """A not-run finding for every Apex file of each package directory whose probe did not come back."""
    findings = []
    for package_dir, name in workspace.probes.items():
        if name in returned:
            continue
        reason = (
            f"apex-ls did not analyse package directory {project.relative(package_dir)} (the probe class planted "
            "in it did not come back); no semantic error in its Apex files was looked for"
        )
        for path in project.apex_files():
            if package_dir in path.parents:
                findings.append(not_run(project.relative(path), "apex-ls", reason))
    return findings


def apex_ls_findings(
    toolchain: Toolchain, project: ProjectFiles, use_cache: bool = True, daemon: Daemon | None = None
) -> list[Finding]:
    """apex-ls over the whole SFDX project: syntax, undefined names, wrong types, each as blocker or not.

    With ``use_cache``, a project none of whose files changed since the last check gets that check's
    findings without running apex-ls; otherwise ``daemon`` (apex-ls kept loaded between checks) refreshes
    what changed, or apex-ls runs alone with its own cache (keyed by file content).
    """
    if not use_cache:
        return _run(toolchain, project, use_cache, None, None)
    inputs = [project.root / name for name in (SFDX_PROJECT_FILE, ".forceignore") if (project.root / name).is_file()]
    store = ProjectCache(project, "apex-ls", inputs, project.files(lambda name: True))
    known = store.load()
    if known is not None:
        return known
    findings = _run(toolchain, project, use_cache, daemon, store)
    store.save(findings)
    return findings
