"""What a check finds, and the project files it looks at: shared by the fast and the deep check.

A finding is one of two kinds. A deploy blocker (severity ``error``) is something the org would reject:
a syntax error, a compile error apex-ls is certain of in the project's own code, XML that is not
well-formed or names what its type does not have, a missing ``-meta.xml``. Every other finding is a rule
finding with the severity Salesforce Code Analyzer gives it (``critical`` .. ``info``, its levels 1 to 5),
which fails a check only at or above the ``--severity-threshold`` asked for, as in Code Analyzer.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from apexgen.errors import ApexgenError, ExitCode, UsageError
from apexgen.project.containment import ProjectPaths
from apexgen.project.forceignore import ForceIgnore

APEX_SUFFIXES = (".cls", ".trigger")
UTF8_BOM = b"\xef\xbb\xbf"
BLOCKER = "error"
# Salesforce Code Analyzer's severity levels, most severe first: level 1 is "critical" (its SeverityLevel).
RULE_SEVERITIES = ("critical", "high", "moderate", "low", "info")
# A tool that could not run on a file: Code Analyzer reports an engine that fails (UnexpectedEngineError)
# at its highest level, since nothing is known of what it would have found.
NOT_RUN_SEVERITY = "critical"
NOT_RUN_RULE = "not-run"
# An 'apexgen generate' that did not finish: the files the check saw are not the ones the spec makes.
INTERRUPTED_RULE = "interrupted"
# A file whose content changed while the check read it (an editor saving, a branch switch).
CHANGED_RULE = "changed-during-check"
# Findings that make a check incomplete (exit 5) rather than failed, and whose files are never cached.
INCOMPLETE_RULES = {NOT_RUN_RULE, INTERRUPTED_RULE, CHANGED_RULE}
# Folders that never hold project source: tool caches, VCS data, installed packages.
SKIPPED_DIRS = {"node_modules", ".git", ".sfdx", ".sf", ".apexgen", "__pycache__"}


@dataclass(frozen=True, order=True)
class Finding:
    file: str  # path relative to the project root, posix
    line: int  # 1-based; 0 when the finding is about the whole file
    column: int  # 1-based; 0 when unknown
    severity: str  # BLOCKER, or one of RULE_SEVERITIES
    tool: str  # spec | manifest | xsd | sfdx-schema | meta | permission-set | jorje | apex-ls | pmd | prettier
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column} {self.severity} {self.tool} {self.rule} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def starts_with_bom(path: Path) -> bool:
    with open(path, "rb") as source:
        return source.read(len(UTF8_BOM)) == UTF8_BOM


class ToolFailedError(ApexgenError):
    """A checking tool crashed or answered in a way that cannot be read: its result is unknown."""

    def __init__(self, tool: str, reason: str):
        self.tool, self.reason = tool, reason
        super().__init__(f"{tool} failed: {reason}")


def last_line(*outputs: str | bytes) -> str:
    """The last non-blank line of the first output that has one: what a failing tool said last."""
    for output in outputs:
        text = output.decode(errors="replace") if isinstance(output, bytes) else output or ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no output"


def severity_threshold(value: str | None) -> str | None:
    """The rule severity ``--severity-threshold`` names (a level 1-5 or its name, any case), or None."""
    if value is None:
        return None
    chosen = value.strip().lower()
    if chosen.isdigit() and 1 <= int(chosen) <= len(RULE_SEVERITIES):
        return RULE_SEVERITIES[int(chosen) - 1]
    if chosen in RULE_SEVERITIES:
        return chosen
    names = ", ".join(f"{number} ({name})" for number, name in enumerate(RULE_SEVERITIES, 1))
    raise UsageError(f"--severity-threshold: '{value}' is not a severity; choose one of {names}")


def at_or_above(finding: Finding, threshold: str | None) -> bool:
    """Whether ``finding`` fails a check run with ``threshold``: every blocker does, a rule finding when as severe."""
    if finding.severity == BLOCKER:
        return True
    return threshold is not None and RULE_SEVERITIES.index(finding.severity) <= RULE_SEVERITIES.index(threshold)


def not_run(file: str, tool: str, reason: str) -> Finding:
    """The finding for a tool that could not look at ``file`` (``.`` for the whole project)."""
    return Finding(file, 0, 0, NOT_RUN_SEVERITY, tool, NOT_RUN_RULE, f"{tool} did not run here: {reason}")


def incomplete(findings: list[Finding]) -> list[dict[str, Any]]:
    """What the check did not complete: one ``{"tool", "reason", "files"}`` per tool and reason, from the
    not-run and interrupted findings (``files``: project-relative, ``.`` for the whole project)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for finding in findings:
        if finding.rule in INCOMPLETE_RULES:
            grouped.setdefault((finding.tool, finding.message), []).append(finding.file)
    return [{"tool": tool, "reason": reason, "files": files} for (tool, reason), files in grouped.items()]


def summarize(findings: list[Finding], threshold: str | None = None) -> dict[str, Any]:
    """Counts by kind and severity, whether the findings fail a check run with ``threshold`` (a not-run
    finding makes the check incomplete rather than failed), and the tools that did not run (with the files
    they did not see)."""
    by_severity = {severity: sum(1 for f in findings if f.severity == severity) for severity in RULE_SEVERITIES}
    not_run_files: dict[str, list[str]] = {}
    for finding in findings:
        if finding.rule == NOT_RUN_RULE:
            not_run_files.setdefault(finding.tool, []).append(finding.file)
    return {
        "errors": sum(1 for f in findings if f.severity == BLOCKER),
        "rule_findings": by_severity,
        "severity_threshold": threshold,
        "failed": any(at_or_above(f, threshold) for f in findings if f.rule not in INCOMPLETE_RULES),
        "not_run": not_run_files,
        "incomplete": incomplete(findings),
    }


def check_exit_code(summary: dict[str, Any]) -> ExitCode:
    """FINDINGS when the findings fail the check, else INCOMPLETE when a tool did not analyse everything, else OK."""
    if summary["failed"]:
        return ExitCode.FINDINGS
    return ExitCode.INCOMPLETE if summary["incomplete"] else ExitCode.OK


@dataclass
class ProjectFiles:
    """The project a check looks at: its root, its package directories, its source API version."""

    root: Path
    package_dirs: list[Path]
    source_api_version: str | None
    namespace: str | None = None  # the project's own namespace prefix (sfdx-project.json), if any
    # The .forceignore of each package directory, found as the converter finds it (the nearest at or above
    # the directory): what it leaves out is never deployed, so it is never checked either.
    _ignores: dict[Path, ForceIgnore] = field(default_factory=dict, repr=False, compare=False)
    # Every file .forceignore keeps, as first walked: one check sees one snapshot of the tree.
    _kept: list[Path] | None = field(default=None, repr=False, compare=False)
    _digests: dict[Path, str] = field(default_factory=dict, repr=False, compare=False)

    def relative(self, path: Path | str) -> str:
        return Path(os.path.relpath(Path(path).resolve(), self.root)).as_posix()

    def ignored(self, relative: str) -> bool:
        """Whether .forceignore leaves out the project-relative path (a folder's ends with '/')."""
        path = self.root / relative.rstrip("/")
        package_dir = next((d for d in self.package_dirs if d == path or d in path.parents), self.root)
        return bool(self._ignore_of(package_dir).denies(str(path)))

    def _ignore_of(self, package_dir: Path) -> ForceIgnore:
        if package_dir not in self._ignores:
            self._ignores[package_dir] = ForceIgnore.of_project(self.root, package_dir)
        return self._ignores[package_dir]

    def files(self, keep: Callable[[str], bool]) -> list[Path]:
        """Files under the package directories whose name ``keep`` accepts and .forceignore keeps, sorted:
        walked as the converter walks them (``ProjectPaths.walk``), so what is checked is what is deployed."""
        if self._kept is None:
            paths = ProjectPaths(self.root)
            found: set[Path] = set()
            for package_dir in self.package_dirs:
                denies = self._ignore_of(package_dir).denies

                def skipped(path: str, denies: Callable[[str], bool] = denies) -> bool:
                    return os.path.basename(path) in SKIPPED_DIRS or denies(path)

                found.update(Path(path) for path in paths.walk(str(package_dir), skipped))
            self._kept = sorted(found)
        return [path for path in self._kept if keep(path.name)]

    def digest(self, path: Path) -> str:
        """The SHA-256 of the file's content, read once per check: what the check's caches are keyed by."""
        if path not in self._digests:
            self._digests[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self._digests[path]

    def unchanged(self, path: Path) -> bool:
        """Whether ``path`` still holds the content ``digest`` read: read again, so findings are cached only
        under the digest of the content the tools read (the same before and after they ran)."""
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest() == self.digest(path)
        except OSError:
            return False

    def changed_during_check(self) -> list[Finding]:
        """A finding (the check did not complete) for each file whose content changed since the check read it."""
        return [
            Finding(
                self.relative(path),
                0,
                0,
                NOT_RUN_SEVERITY,
                "check",
                CHANGED_RULE,
                "changed while the check read it: its findings may be stale and none were cached; check again",
            )
            for path in sorted(self._digests)
            if not self.unchanged(path)
        ]

    def apex_files(self) -> list[Path]:
        return self.files(lambda name: name.endswith(APEX_SUFFIXES))
