"""Deploy an SFDX project through the Metadata API: checks, conversion, deploy, polling (see
``apexgen.org.polling``), cancel, quick deploy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apexgen.check.dependencies import Required, required_of
from apexgen.check.runner import run_checks
from apexgen.convert import ConvertedProject, deploy_zip
from apexgen.deploy.apex_tests import find_test_classes
from apexgen.deploy.dependencies import missing_in_org
from apexgen.errors import ApexgenError, ExitCode, ToolsMissingError, UsageError
from apexgen.org.metadata import DeployOptions, MetadataClient
from apexgen.org.polling import poll_until
from apexgen.org.results import DeployResult
from apexgen.org.tooling import ToolingSession


class ChecksFailed(ApexgenError):
    exit_code = ExitCode.FINDINGS


@dataclass
class PreparedDeploy:
    project: ConvertedProject
    options: DeployOptions
    check_warnings: list[Any]
    required: list[Required]  # what the checks say the target org must provide: asked once connected


def run_pre_deploy_checks(root: Path, checks: str) -> list[Any]:
    """The checks of ``apexgen check``, before anything leaves the machine.

    ``checks`` is ``auto`` (the deep check where its tools are installed, else the fast one), ``fast``
    or ``deep`` (which needs the tools).
    """

    if checks == "auto":
        try:
            return run_checks(root, deep=True)
        except ToolsMissingError:
            return run_checks(root, deep=False)
    return run_checks(root, deep=checks == "deep")


def prepare(
    root: Path,
    *,
    check_only: bool,
    test_level: str,
    tests: list[str],
    checks: str,  # "auto" | "fast" | "deep" | "skip"
    package_dirs: list[str] | None = None,  # default: every package directory
    package_name: str | None = None,
) -> PreparedDeploy:
    """Everything that happens before anything leaves the machine: checks, conversion, the test list."""
    warnings: list[Any] = []
    required: list[Required] = []
    if checks != "skip":
        findings = run_pre_deploy_checks(root, checks)
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            listing = "; ".join(str(f) for f in errors[:5])
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise ChecksFailed(
                f"{len(errors)} check error(s), nothing was deployed: {listing}{more} "
                "(run apexgen check for all findings, or pass --skip-checks)"
            )
        warnings, required = findings, required_of(findings)
    # Every package directory unless some are named, as sf project deploy start sends them; package_name (1GP):
    # package.xml names the packaging org's package, so the components join it.
    project = deploy_zip(root, package_dirs, package_name=package_name)
    if test_level == "RunSpecifiedTests" and not tests:
        tests = find_test_classes(root, project)
        if not tests:
            raise UsageError(
                "--test-level RunSpecifiedTests: the project has no @IsTest class; "
                "pass --tests or --test-level NoTestRun"
            )
    options = DeployOptions(
        check_only=check_only, test_level=test_level, run_tests=tests if test_level == "RunSpecifiedTests" else []
    )
    return PreparedDeploy(project, options, warnings, required)


def confirm_required(session: ToolingSession, required: list[Required]) -> None:
    """Raise ChecksFailed, before anything is sent, when the org lacks a name the project uses but does not
    define (``apexgen.deploy.dependencies``)."""
    missing = missing_in_org(session, required)
    if missing:
        listing = "; ".join(str(r) for r in missing)
        raise ChecksFailed(
            f"the target org lacks {len(missing)} of the {len(required)} name(s) the project uses but does not "
            f"define: {listing}; nothing was deployed (install the packages that provide them, or pass --skip-checks)"
        )


def wait_for_deploy(client: MetadataClient, deploy_id: str, *, wait_seconds: float, **callbacks: Any) -> DeployResult:
    """Poll checkDeployStatus (with details) until the deploy is final."""
    final: DeployResult = poll_until(
        lambda: client.check_deploy_status(deploy_id),
        lambda result: result.finished,
        job_id=deploy_id,
        wait_seconds=wait_seconds,
        status_of=lambda result: result.status,
        **callbacks,
    )
    return final


def exit_code_for(result: DeployResult, *, canceling: bool = False) -> ExitCode:
    if result.status == "Succeeded" or (canceling and result.status == "Canceled"):
        return ExitCode.OK
    return ExitCode.FINDINGS
