"""Deploy an SFDX project through the Metadata API: checks, conversion, deploy, polling, cancel, quick deploy.

Polling runs on a fixed grid (0.5 s, then every 1 s) rather than "sleep after each answer", so a slow
answer does not add to the interval: the org finishing is seen within about a second, and a long deploy
costs at most one status call per second. Transient failures of a status call (connection reset, timeout,
5xx, after the transport's own retries) do not end the wait; the next poll simply follows.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from generator.convert import ConvertedProject, UnsupportedFiles, convert_project, convert_with_sf
from generator.errors import ApexgenError, ExitCode, UsageError
from generator.mdapi import DeployOptions, DeployResult, MetadataClient, TransientError

FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 1.0
MAX_CONSECUTIVE_POLL_ERRORS = 30
T = TypeVar("T")


class ChecksFailed(ApexgenError):
    exit_code = ExitCode.FINDINGS


class WaitExpired(ApexgenError):
    """--wait ran out while the org was still working; the deploy goes on and can be resumed."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, job_id: str, status: str | None, waited: float):
        self.job_id, self.status = job_id, status
        super().__init__(f"the wait of {waited:g} s ran out; {job_id} is still {status or 'running'} in the org")


@dataclass
class PreparedDeploy:
    project: ConvertedProject
    options: DeployOptions
    check_warnings: list[Any]
    notes: list[str]


def run_pre_deploy_checks(root: Path, checks: str) -> list[Any]:
    """The checks of ``apexgen check``, before anything leaves the machine.

    ``checks`` is ``auto`` (the deep check where its tools are installed, else the fast one), ``fast``
    or ``deep`` (which needs the tools).
    """
    from generator.check import run_checks
    from generator.errors import ToolsMissingError

    if checks == "auto":
        try:
            return run_checks(root, deep=True)
        except ToolsMissingError:
            return run_checks(root, deep=False)
    return run_checks(root, deep=checks == "deep")


def format_finding(finding: Any) -> str:
    return f"{finding.file}:{finding.line}:{finding.column} {finding.severity} {finding.tool}/{finding.rule}: {finding.message}"


_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_IS_TEST_BEFORE_CLASS = re.compile(r"@istest\b(?:(?!\bclass\b).)*\bclass\b", re.IGNORECASE | re.DOTALL)


def find_test_classes(root: Path, project: ConvertedProject) -> list[str]:
    """Apex classes annotated @IsTest, by a scan of each class's text before its ``class`` keyword."""
    tests = []
    for zip_path, source in project.source_paths.items():
        if zip_path.startswith("classes/") and zip_path.endswith(".cls"):
            text = _COMMENTS.sub(" ", (root / source).read_text(encoding="utf-8", errors="replace"))
            match = _IS_TEST_BEFORE_CLASS.search(text)
            first_class = re.search(r"\bclass\b", text, re.IGNORECASE)
            if match and first_class and match.end() == first_class.end():
                tests.append(zip_path[len("classes/") : -len(".cls")])
    return sorted(tests)


def convert(root: Path) -> tuple[ConvertedProject, list[str]]:
    """The project as a deploy zip, and a note when the sf CLI converted it because apexgen cannot."""
    try:
        return convert_project(root), []
    except UnsupportedFiles as exc:
        sf = shutil.which("sf")
        if sf is None:
            raise
        note = f"converted with sf project convert source: {exc.files[0]} is of a type apexgen does not convert itself"
        return convert_with_sf(root, sf), [note]


def prepare(
    root: Path,
    *,
    check_only: bool,
    test_level: str,
    tests: list[str],
    checks: str,  # "auto" | "fast" | "deep" | "skip"
) -> PreparedDeploy:
    """Everything that happens before anything leaves the machine: checks, conversion, the test list."""
    warnings: list[Any] = []
    if checks != "skip":
        findings = run_pre_deploy_checks(root, checks)
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            listing = "; ".join(format_finding(f) for f in errors[:5])
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise ChecksFailed(f"{len(errors)} check error(s), nothing was deployed: {listing}{more} "
                               "(run apexgen check for all findings, or pass --skip-checks)")
        warnings = findings
    project, notes = convert(root)
    if test_level == "RunSpecifiedTests" and not tests:
        tests = find_test_classes(root, project)
        if not tests:
            raise UsageError("--test-level RunSpecifiedTests: the project has no @IsTest class; "
                             "pass --tests or --test-level NoTestRun")
    options = DeployOptions(check_only=check_only, test_level=test_level,
                            run_tests=tests if test_level == "RunSpecifiedTests" else [])
    return PreparedDeploy(project, options, warnings, notes)


def poll_intervals(first: float = FIRST_POLL_SECONDS, longest: float = MAX_POLL_SECONDS) -> Iterator[float]:
    interval = first
    while True:
        yield interval
        interval = min(interval * 2, longest)


def poll_until(
    fetch: Callable[[], T | None],
    is_final: Callable[[T], bool],
    *,
    job_id: str,
    wait_seconds: float,
    status_of: Callable[[T], str],
    on_progress: Callable[[T], None] = lambda value: None,
    on_retry: Callable[[str], None] = lambda message: None,
    intervals: Iterator[float] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fetch`` on the poll grid until it returns a final value; raises WaitExpired when the wait runs out.

    ``intervals`` spaces the polls (default: poll_intervals, for jobs of seconds to minutes).
    ``fetch`` raising TransientError (after the transport's own retries) costs one poll, not the wait."""
    started = clock()
    deadline = started + wait_seconds
    intervals = intervals or poll_intervals()
    next_poll = started + next(intervals)
    last: T | None = None
    errors = 0
    while True:
        if next_poll > deadline:
            if clock() >= deadline:
                raise WaitExpired(job_id, status_of(last) if last is not None else None, wait_seconds)
            next_poll = deadline  # one last look when the wait ends
        delay = next_poll - clock()
        if delay > 0:
            sleep(delay)
        try:
            value = fetch()
        except TransientError as exc:
            errors += 1
            if errors >= MAX_CONSECUTIVE_POLL_ERRORS:
                raise TransientError(f"{exc} ({errors} status calls in a row failed)") from None
            on_retry(f"{exc}; polling again")
        else:
            errors = 0
            if value is not None:
                last = value
                on_progress(value)
                if is_final(value):
                    return value
        next_poll = max(next_poll + next(intervals), clock())


def wait_for_deploy(client: MetadataClient, deploy_id: str, *, wait_seconds: float, **callbacks: Any) -> DeployResult:
    """Poll checkDeployStatus (with details) until the deploy is final."""
    return poll_until(
        lambda: client.check_deploy_status(deploy_id),
        lambda result: result.finished,
        job_id=deploy_id,
        wait_seconds=wait_seconds,
        status_of=lambda result: result.status,
        **callbacks,
    )


def exit_code_for(result: DeployResult, *, canceling: bool = False) -> ExitCode:
    if result.status == "Succeeded" or (canceling and result.status == "Canceled"):
        return ExitCode.OK
    return ExitCode.FINDINGS


def parse_wait(value: str) -> float:
    """Seconds from a --wait value: minutes as a number (like the sf CLI), or with an s/m/h unit."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", value)
    if not match:
        raise UsageError(f"--wait: {value!r} is not a duration such as 33 (minutes), 90s, 10m or 1h")
    number, unit = float(match.group(1)), match.group(2) or "m"
    return number * {"s": 1, "m": 60, "h": 3600}[unit]
