"""apex-ls (CheckForIssues) over the whole project, verified by a probe in each package directory it loads;
which of its findings are deploy blockers is ``apexgen.check.apex_ls_certainty``'s to say.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from apexgen.check.apex_ls_certainty import UNCERTAIN, ProjectTypes, certainty, required_names
from apexgen.check.cache import ProjectCache, check_cache_dir
from apexgen.check.daemon import Daemon, DaemonError
from apexgen.check.dependencies import Required, required_finding
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
from apexgen.project.sfdx_project import as_sf_reads
from apexgen.salesforce import META_SUFFIX, SFDX_PROJECT_FILE

APEX_LS_MAIN = "io.github.apexdevtools.apexls.CheckForIssues"
APEX_LS_ISSUES_EXIT = 4
# apex-ls' advisory categories (reported with its default detail level only as errors are).
ADVISORY = {"Warning": "low", "Unused": "low"}
UNCERTAIN_NOTE = " (apex-ls may not know this platform or package type; not a deploy blocker)"
PROJECT_FILE_NOTE = " (apex-ls' own rule for sfdx-project.json; a deploy does not read this file)"
# The probe planted in each package directory apex-ls loads (``apex_ls_workspace``).
# In a mirror whose sfdx-project.json is a rewritten copy, a link to the project it stands for.
PROJECT_LINK = ".apexgen-project"
PROBE_PREFIX = "ApexgenCheckProbe"
PROBE_METHOD = "apexgenProbeNotDefined"
PROBE_META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">\n'
    "    <apiVersion>60.0</apiVersion>\n    <status>Active</status>\n</ApexClass>\n"
)


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
    """The project folder a mirror stands for (its sfdx-project.json, or else its PROJECT_LINK, links there),
    else ``workspace`` itself."""
    for link, folder in ((workspace / SFDX_PROJECT_FILE, False), (workspace / PROJECT_LINK, True)):
        if link.is_symlink():
            return link.resolve() if folder else link.resolve().parent
    return workspace


def _sf_settings(project: ProjectFiles) -> bytes | None:
    """sfdx-project.json with its package directory paths as sf reads them (``as_sf_reads``), when one is
    written otherwise (apex-ls reads them literally); None when the file can be read as it is."""
    text = (project.root / SFDX_PROJECT_FILE).read_text("utf-8-sig")
    try:
        settings = json.loads(text)
        entries = [e for e in settings.get("packageDirectories", []) if isinstance(e.get("path"), str)]
    except (ValueError, AttributeError):
        return None
    if all(as_sf_reads(entry["path"]) == entry["path"] for entry in entries):
        return None
    for entry in entries:
        entry["path"] = as_sf_reads(entry["path"])
    return json.dumps(settings, indent=2).encode()


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
    rewritten = _sf_settings(project) if (project.root / SFDX_PROJECT_FILE).is_file() else None
    if rewritten is not None:
        wanted[mirror / SFDX_PROJECT_FILE] = rewritten
        wanted[mirror / PROJECT_LINK] = project.root
    # The files a deploy would take (inside the project, kept by .forceignore): apex-ls reads no other.
    for source in project.files(lambda name: True):
        if source.name.endswith(APEX_SUFFIXES) and not source.with_name(source.name + META_SUFFIX).is_file():
            continue  # not deployed (the meta check reports it): apex-ls must not judge other code by it
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
    """apex-ls' report as findings, in two passes: first the names the target org must provide (each once,
    in one finding, with the first place that uses it), then every other message, judged knowing them (a
    type inheriting from one of them, or a line using one, is one apex-ls could not type)."""
    probe_names = set(workspace.probes.values())
    returned = set()
    messages: list[tuple[str, Path, dict[str, Any], str, list[tuple[str, str]]]] = []
    missing: set[str] = set()
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
            # Messages name files by absolute path; the project-relative one reads the same anywhere.
            text = message.get("message", "").replace(f"{root}{os.sep}", "")
            advisory = message.get("category", "Error") in ADVISORY or file == SFDX_PROJECT_FILE
            names = [] if advisory else required_names(text, types, path)
            missing.update(name.lower() for _, name in names)
            messages.append((file, path, message, text, names))
    types.missing = missing
    # Every line with a missing name is one apex-ls could not type: its other errors are uncertain. A bare name
    # used in a file whose types inherit from a missing one may be an inner type or member of that parent,
    # which apex-ls cannot see: the org is not asked for it, and its use is uncertain too.
    untyped_lines = {
        (file, line)
        for file, path, message, _, names in messages
        if names
        for line in types.statement_lines(path, message.get("start", {}).get("line", 0))
    }
    types.untyped_files = {path for _, path, _, _, names in messages if names}
    inherited = {path for _, path, _, _, names in messages if names and types.file_inherits_missing(path)}
    required: dict[tuple[str, str], Required] = {}  # (kind, name in lower case, as Apex compares) -> first use
    findings = []
    for file, path, message, text, names in messages:
        start = message.get("start", {})
        category = message.get("category", "Error")
        if names and not (path in inherited and all(types.inheritable(name) for name in names)):
            for name in names:
                kind, text = name
                required.setdefault((kind, text.lower()), Required(kind, text, f"{file}:{start.get('line', 0)}"))
            continue
        if file == SFDX_PROJECT_FILE:
            # apex-ls' own reading of the project file (a 3-part versionNumber, say): the Metadata API
            # never reads it; the sfdx-schema check holds it to Salesforce's schema.
            severity: str | None = UNCERTAIN
            text += PROJECT_FILE_NOTE
        else:
            severity = ADVISORY.get(category) or certainty(text, path, types, start.get("line", 0))
            if severity == BLOCKER and (names or (file, start.get("line")) in untyped_lines):
                severity = UNCERTAIN
        if severity is None:
            continue
        if severity == UNCERTAIN and file != SFDX_PROJECT_FILE:
            text += UNCERTAIN_NOTE
        # apex-ls offsets are 0-based columns.
        findings.append(
            Finding(file, start.get("line", 0), start.get("offset", -1) + 1, severity, "apex-ls", category, text)
        )
    return findings + required_finding("apex-ls", list(required.values())) + _unprobed(workspace, project, returned)


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
