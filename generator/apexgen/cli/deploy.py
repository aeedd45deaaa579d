"""apexgen deploy and apexgen test: the Metadata API and Tooling API, with reports for people and CI."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from apexgen import __version__
from apexgen.cli.check import echo_pre_deploy_findings
from apexgen.cli.options import (
    TEST_LEVEL_CHOICES,
    org_connection,
    package_dir_option,
    project_dir_option,
    project_root,
    report_options,
    test_level_option,
    tests_option,
    wait_option,
)
from apexgen.cli.org import OrgLogin
from apexgen.cli.output import echo_result, finish, interrupted
from apexgen.cli.progress import DeployProgress
from apexgen.errors import ApexgenError, ExitCode, UsageError
from apexgen.salesforce import API_VERSION, SFDX_PROJECT_FILE


def _project_sources(root: Path) -> tuple[Any, str, Any]:
    """(SourceMap, API version, converted project or None) for an SFDX project at root, if there is one."""
    from apexgen.convert import deploy_zip
    from apexgen.report.summary import SourceMap

    if not (root / SFDX_PROJECT_FILE).is_file():
        return SourceMap(), API_VERSION, None
    # Only which file each component came from: the zip is not sent, so replacements' variables are not needed.
    project = deploy_zip(root, replacements=False)
    for note in project.notes:
        click.echo(note, err=True)
    return SourceMap(project.source_paths), project.api_version, project


def _check_report_paths(*paths: Path | None) -> None:
    """Refuse, before the org is asked to do anything, a report file that could not be written after it."""
    for path in paths:
        if path is None:
            continue
        folder = path.parent
        writable = folder.is_dir() and os.access(folder, os.W_OK) and not path.is_dir()
        if not writable or (path.exists() and not os.access(path, os.W_OK)):
            raise UsageError(
                f"{path}: cannot be written (its folder must exist and be writable); nothing was sent to the org"
            )


def _write_reports(tests: Any, sources: Any, root: Path, junit: Path | None, coverage: Path | None, suite: str) -> None:
    from apexgen.report.ci_files import cobertura_xml, junit_xml

    renderers: list[tuple[Path | None, Callable[[], bytes]]] = [
        (junit, lambda: junit_xml(tests, suite)),
        (coverage, lambda: cobertura_xml(tests, sources, str(root))),
    ]
    for path, render in renderers:
        if path is None:
            continue
        try:
            path.write_bytes(render())
        except OSError as exc:
            raise UsageError(f"cannot write {path} ({exc.strerror})") from None
        click.echo(f"Wrote {path}", err=True)


@click.command()
@project_dir_option
@click.option(
    "--validate",
    "--dry-run",
    "validate",
    is_flag=True,
    help="Validate only (checkOnly, sf's --dry-run): compile and run tests, commit nothing.",
)
@test_level_option(TEST_LEVEL_CHOICES)
@tests_option
@wait_option("33", zero="starts the deploy and returns its id")
@click.option("--resume", metavar="ID", help="Wait for (and report) a deploy that is already running.")
@click.option("--cancel", metavar="ID", help="Cancel a running deploy and wait until it is canceled.")
@click.option("--quick", metavar="ID", help="Deploy a validation that passed in the last 10 days (no tests run again).")
@click.option("--skip-checks", is_flag=True, help="Deploy without the offline checks of apexgen check.")
@click.option("--deep-checks", is_flag=True, help="Run the deep checks of apexgen check before deploying.")
@package_dir_option("-d")
@click.option(
    "--package-name",
    metavar="NAME",
    help="1GP: add the deployed components to this package of the packaging org (package.xml <fullName>).",
)
@report_options
@org_connection
def deploy(**options: Any) -> None:
    """Check, convert and deploy the project through the Metadata API, then report like a CI tool.

    By default `apexgen check` runs first (deep where its tools are installed) and the project's
    @IsTest classes run as RunSpecifiedTests. The summary lists each component error as file:line:col, each failing test with
    its message and stack, and coverage per class and in total against the 75% rule.
    With --package-name (1GP), package.xml names the packaging org's package, so the deployed
    components join it and the next `apexgen package upload` ships them.

    \b
    Exit codes: 0 deployed (or canceled with --cancel); 1 checks, components, tests or coverage failed,
    or the deploy was still running when --wait ran out; 2 bad input; 4 connection or login failed;
    130 interrupted (the deploy keeps running: the resume command is printed).
    """
    from apexgen.deploy import deploy as deploying
    from apexgen.org.metadata import MetadataClient, check_id
    from apexgen.org.polling import parse_wait
    from apexgen.report.summary import SourceMap, deploy_json, deploy_summary

    root = project_root(options["project_dir"])
    modes = [flag for flag in ("resume", "cancel", "quick") if options[flag]]
    as_json = options["as_json"]
    deploy_id: str | None = None
    in_flight = False  # a deploy request was sent and its answer (the id) has not arrived
    try:
        _check_report_paths(options["junit"], options["coverage"])
        org = OrgLogin(options, root)
        if len(modes) > 1:
            raise UsageError(f"--{modes[0]} and --{modes[1]} cannot be combined")
        if modes and options["validate"]:
            raise UsageError(f"--validate starts a new deploy; it cannot be combined with --{modes[0]}")
        if options["skip_checks"] and options["deep_checks"]:
            raise UsageError("--skip-checks and --deep-checks cannot be combined")
        if options["package_name"] is not None and (modes or not options["package_name"].strip()):
            raise UsageError(
                f"--package-name: cannot be combined with --{modes[0]}"
                if modes
                else "--package-name: name the packaging org's package"
            )
        for mode in modes:
            check_id(f"--{mode}", options[mode])
        deploy_id = options["resume"] or options["cancel"]
        wait_seconds = parse_wait(options["wait"])
        tests = _test_names(options["tests"], options["test_level"])
        if modes:
            sources, api_version, _ = _project_sources(root)
        else:
            checks = "skip" if options["skip_checks"] else "deep" if options["deep_checks"] else "auto"
            prepared = deploying.prepare(
                root,
                check_only=options["validate"],
                test_level=options["test_level"],
                tests=tests,
                checks=checks,
                package_dirs=list(options["package_dirs"]) or None,
                package_name=options["package_name"],
            )
            echo_pre_deploy_findings(prepared.check_warnings)
            for note in prepared.project.notes:
                click.echo(note, err=True)
            sources, api_version = SourceMap(prepared.project.source_paths), prepared.project.api_version
        connection = org.connect(api_version)
        if not modes and prepared.required:
            from apexgen.org.tooling import ToolingSession

            deploying.confirm_required(ToolingSession(connection), prepared.required)
            click.echo(
                f"The org provides the {len(prepared.required)} name(s) the project uses but does not define", err=True
            )
        client = MetadataClient(connection, client_name=f"apexgen/{__version__}")
        if options["cancel"]:
            done = client.cancel_deploy(deploy_id)
            click.echo(f"Cancel requested for {deploy_id}" + (" (it was still queued)" if done else ""), err=True)
        elif options["quick"]:
            deploy_id = client.deploy_recent_validation(options["quick"])
            click.echo(f"Quick deploy {deploy_id} of validation {options['quick']} started", err=True)
        elif not modes:
            in_flight = True
            deploy_id = client.deploy(prepared.project.zip_bytes, prepared.options)
            in_flight = False
            what = "Validation" if options["validate"] else "Deploy"
            tests_note = f", tests: {', '.join(prepared.options.run_tests)}" if prepared.options.run_tests else ""
            joining = f" (added to package {options['package_name']})" if options["package_name"] else ""
            click.echo(
                f"{what} {deploy_id} started: {prepared.project.component_count} components{joining}, "
                f"{prepared.options.test_level}{tests_note}",
                err=True,
            )
        if wait_seconds == 0:
            if as_json:
                echo_result({"id": deploy_id, "status": "Queued"})
            else:
                click.echo(deploy_id)
            click.echo(f"Not waiting. Report it with: apexgen deploy --resume {deploy_id}", err=True)
            return
        with DeployProgress(sys.stderr.isatty() and not as_json) as progress:
            result = deploying.wait_for_deploy(
                client, deploy_id, wait_seconds=wait_seconds, on_progress=progress.deploy, on_retry=progress.note
            )
    except KeyboardInterrupt:
        if deploy_id:
            interrupted(
                f"interrupted; {deploy_id} goes on in the org. Follow it: apexgen deploy --resume {deploy_id}"
                f"  Cancel it: apexgen deploy --cancel {deploy_id}",
                {"id": deploy_id},
            )
        if in_flight:
            interrupted(
                "interrupted while the deploy request was on its way; it may have started in the org "
                "(Setup > Deployment Status)"
            )
        interrupted("interrupted before a deploy was started")
    except ApexgenError as exc:
        if deploy_id:
            exc.data = {"id": deploy_id}
        if deploy_id and exc.exit_code != ExitCode.USAGE:
            click.echo(f"{deploy_id} may still be running in the org: apexgen deploy --resume {deploy_id}", err=True)
        raise
    _write_reports(result.test_result, sources, root, options["junit"], options["coverage"], "apexgen deploy")
    if not as_json:
        click.echo(deploy_summary(result, sources), nl=False)
    if result.check_only and result.success:
        click.echo(f"Deploy this validation without running tests again: apexgen deploy --quick {result.id}", err=True)
    finish(deploy_json(result, sources), deploying.exit_code_for(result, canceling=bool(options["cancel"])), as_json)


def _test_names(values: tuple[str, ...], test_level: str) -> list[str]:
    """The names of every --tests, each split at its commas (sf takes -t A -t B; its older versions -t A,B)."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if names and test_level != "RunSpecifiedTests":
        raise UsageError(f"--tests: names test classes for --test-level RunSpecifiedTests, not {test_level}")
    return names


@click.command("test")
@project_dir_option
@test_level_option(TEST_LEVEL_CHOICES[1:])
@tests_option
@wait_option("33", zero=None)
@report_options
@org_connection
def test_command(**options: Any) -> None:
    """Run the project's Apex tests in the org (Tooling API) and report results and coverage.

    Coverage is reported for the project's non-test classes, line by line.

    \b
    Exit codes: 0 all tests passed and coverage is at least 75%; 1 a test failed, coverage is under 75%,
    or the run was still going when --wait ran out; 2 bad input; 4 connection or login failed;
    130 interrupted (the run keeps going in the org).
    """
    from apexgen.deploy import apex_tests
    from apexgen.deploy.apex_tests import find_test_classes
    from apexgen.org.polling import parse_wait
    from apexgen.org.tooling import ToolingSession
    from apexgen.report.summary import (
        REQUIRED_COVERAGE,
        coverage_summary,
        test_run_json,
        tests_summary,
        total_coverage,
    )

    root = project_root(options["project_dir"])
    as_json = options["as_json"]
    run_id: str | None = None
    try:
        _check_report_paths(options["junit"], options["coverage"])
        org = OrgLogin(options, root)
        wait_seconds = parse_wait(options["wait"])
        if wait_seconds == 0:
            raise UsageError("--wait: apexgen test needs a wait above 0")
        sources, api_version, project = _project_sources(root)
        if project is None:
            raise UsageError(
                f"{root / SFDX_PROJECT_FILE}: not found; run apexgen test in an SFDX project or pass --project-dir"
            )
        test_classes = find_test_classes(root, project)
        names = _test_names(options["tests"], options["test_level"]) or test_classes
        if options["test_level"] == "RunSpecifiedTests" and not names:
            raise UsageError("--tests: the project has no @IsTest class; name the test classes to run")
        covered = [m for m in project.members.get("ApexClass", []) if m not in test_classes]
        tooling = ToolingSession(org.connect(api_version))
        run_id = tooling.start(options["test_level"], names)
        click.echo(
            f"Test run {run_id} started: {options['test_level']}"
            + (f", {', '.join(names)}" if options["test_level"] == "RunSpecifiedTests" else ""),
            err=True,
        )
        with DeployProgress(sys.stderr.isatty() and not as_json) as progress:
            run = apex_tests.wait_for_run(
                tooling, run_id, wait_seconds=wait_seconds, on_progress=progress.test_run, on_retry=progress.note
            )
        results = apex_tests.collect_results(tooling, run_id, covered)
    except KeyboardInterrupt:
        if run_id:
            interrupted(f"interrupted; {run_id} goes on in the org", {"id": run_id})
        interrupted("interrupted")
    except ApexgenError as exc:
        if run_id:
            exc.data = {"id": run_id}
        raise
    _write_reports(results, sources, root, options["junit"], options["coverage"], "apexgen test")
    _, _, percent = total_coverage(results.coverage)
    passed = not results.failures and run.status == "Completed" and percent >= REQUIRED_COVERAGE
    if not as_json:
        lines = [
            f"Test run {run_id}: {run.status}",
            *tests_summary(results, sources),
            *coverage_summary(results, sources),
        ]
        click.echo("\n".join(lines))
    result = {"id": run_id, "status": run.status, "success": passed, **test_run_json(results, sources)}
    finish(result, ExitCode.OK if passed else ExitCode.FINDINGS, as_json)
