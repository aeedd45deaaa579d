"""apexgen check and apexgen tools: the offline preflight with Salesforce's own tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from apexgen.cli.options import json_option, project_dir_option, project_root
from apexgen.cli.output import echo_result, finish
from apexgen.errors import ExitCode, ToolsMissingError, UsageError, one_line
from apexgen.pins import PINNED_PACKAGES


@click.command()
@project_dir_option
@click.option(
    "--deep",
    is_flag=True,
    help="Also run jorje (Salesforce's Apex parser), prettier-plugin-apex, apex-ls (semantic analysis) and "
    "PMD 7, in parallel. Needs Node >= 18, a JDK >= 17 and 'apexgen tools install'.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="With --deep: look at every file again, instead of reusing what the last check learnt of unchanged files.",
)
@click.option(
    "--pmd-rules",
    default="security,bestpractices",
    show_default=True,
    metavar="CATEGORIES",
    help="PMD Apex rule categories for --deep, comma-separated (bestpractices, codestyle, design, documentation, "
    "errorprone, multithreading, performance, security); empty to skip PMD. Each finding carries the severity "
    "Salesforce Code Analyzer gives its rule.",
)
@click.option(
    "--severity-threshold",
    metavar="LEVEL",
    help="Also fail on rule findings of this severity or a more severe one, as Code Analyzer's flag does: "
    "1 or critical, 2 or high, 3 or moderate, 4 or low, 5 or info. Without it only deploy blockers fail.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "vscode", "sarif"], case_sensitive=False),
    default="text",
    show_default=True,
    help="text: one line per finding; vscode: file:line:col: error|warning|info: message, for a VS Code problem "
    "matcher (the task apexgen init writes); sarif: one SARIF 2.1.0 document, for code scanning.",
)
@json_option("the findings and a summary")
def check(
    project_dir: str | None,
    deep: bool,
    no_cache: bool,
    pmd_rules: str,
    severity_threshold: str | None,
    output_format: str,
    as_json: bool,
) -> None:
    """Check an SFDX project offline, before it costs an org round-trip.

    \b
    Fast (pure Python): apexgen.toml, generated files against the manifest, every
    metadata XML file as the Metadata API takes it, .cls/.trigger paired with their
    -meta.xml, sfdx-project.json against Salesforce's schema, API versions.
    With --deep: jorje syntax, prettier formatting, apex-ls semantic errors
    (undefined methods, fields and types, wrong types, aiplatform), PMD.
    Files .forceignore leaves out are not checked.

    \b
    Two kinds of finding: deploy blockers (severity "error": what the org would
    reject) and rule findings, with Code Analyzer's severities (critical, high,
    moderate, low, info). A tool that cannot run on a file says so in a finding
    (rule not-run, critical) and every other finding is kept.

    Prints one line per finding, sorted: file:line:col severity tool rule message.
    Exits 1 when there is a deploy blocker or a rule finding at or above
    --severity-threshold; else 5 when a tool analysed nothing or only part of
    what it was given (listed as not-run; nothing is cached for those files);
    0 otherwise; 2 when --deep tools are missing.
    """
    from apexgen.check.findings import check_exit_code, summarize
    from apexgen.check.findings import severity_threshold as read_threshold
    from apexgen.check.runner import check_project

    output_format = output_format.lower()
    if as_json and output_format != "text":
        raise UsageError(f"--format {output_format} and --json cannot be combined: each prints one document")
    threshold = read_threshold(severity_threshold)
    run = check_project(project_root(project_dir), deep=deep, pmd_rules=pmd_rules.split(","), use_cache=not no_cache)
    findings = run.findings
    summary = {**summarize(findings, threshold), "deep": deep}
    if output_format == "sarif":
        from apexgen import __version__
        from apexgen.report.editor_formats import sarif

        click.echo(json.dumps(sarif(findings, __version__), indent=2, ensure_ascii=False))
    elif output_format == "vscode":
        from apexgen.report.editor_formats import problem_matcher_line

        for finding in findings:
            click.echo(problem_matcher_line(finding))
    elif not as_json:
        for finding in findings:
            click.echo(str(finding))
    if not as_json:
        kind = "deep" if deep else "fast"
        counts = counted(summary["rule_findings"])
        click.echo(f"{summary['errors']} deploy blocker(s), rule findings: {counts or 'none'} ({kind} check)", err=True)
        if run.tools is not None:
            click.echo(f"tools: {run.tools.describe() if run.tools.tools else 'none (no Apex files)'}", err=True)
        for tool, files in summary["not_run"].items():
            where = "the project" if files == ["."] else ", ".join(files)
            click.echo(f"did not run: {tool} on {where}", err=True)
        if summary["incomplete"] and not summary["failed"]:
            click.echo(f"the check did not complete: exit {int(ExitCode.INCOMPLETE)}", err=True)
    result = {
        "findings": [f.to_dict() for f in findings],
        "summary": summary,
        "incomplete": summary["incomplete"],
        "tools": run.tools.to_dict() if run.tools is not None else None,
    }
    finish(result, check_exit_code(summary), as_json)


@click.group()
def tools() -> None:
    """Install and inspect what 'apexgen check --deep' runs: pinned npm packages, Node and Java."""


@tools.command("install")
@json_option("where the packages are")
def tools_install(as_json: bool) -> None:
    """npm-install the pinned packages into the per-user cache (npm shows its own progress).

    Exits 2 when Node, npm or a JDK is missing, saying how to get it.
    """
    from apexgen.check.toolchain import (
        Toolchain,
        cache_install_dir,
        check_daemon_classes,
        install_tools,
        jorje_batch_classes,
        runtime_problems,
    )

    pins = " ".join(f"{package}@{version}" for package, version in PINNED_PACKAGES.items())
    click.echo(f"Installing {pins} into {cache_install_dir()}", err=True)
    node_modules = install_tools()
    if not as_json:
        click.echo(str(node_modules))
    problems = runtime_problems()
    if problems:
        raise ToolsMissingError(f"the Node packages are installed, but still missing: {'; '.join(problems)}")
    # Compiled now rather than on the first deep check.
    jorje_batch_classes(Toolchain(node_modules))
    check_daemon_classes(Toolchain(node_modules))
    click.echo("Ready: 'apexgen check --deep' can run.", err=True)
    if as_json:
        echo_result({"nodeModules": str(node_modules)})


@tools.command("status")
@project_dir_option
@json_option("the runtimes, places and daemons")
def tools_status(project_dir: str | None, as_json: bool) -> None:
    """Show the runtimes found and, for every place searched, whether the pinned packages are there.

    Exits 0 when 'apexgen check --deep' can run, 2 when something is missing.
    """
    from apexgen.check.apex_ls import mirrored_project
    from apexgen.check.daemon import running_daemons
    from apexgen.check.toolchain import INSTALL_COMMAND, MIN_JAVA, MIN_NODE, tools_status

    status = tools_status(project_root(project_dir))
    ready = status.selected is not None and status.javac is not None
    lines = []
    runtimes = {}
    for name, major, minimum in (("node", status.node, MIN_NODE), ("java", status.java, MIN_JAVA)):
        state = "not found" if major is None else f"{major} ({'ok' if major >= minimum else 'too old'})"
        ready = ready and major is not None and major >= minimum
        runtimes[name] = {"major": major, "minimum": minimum}
        lines.append(f"{name:<8} {state}, needs >= {minimum}")
    lines.append(f"{'javac':<8} {status.javac or 'not found: a JDK (not only a JRE) is needed'}")
    lines.append("pinned   " + " ".join(f"{package}@{version}" for package, version in PINNED_PACKAGES.items()))
    places = []
    for place in status.places:
        if not place.exists:
            state = "not present"
        elif place.usable:
            state = "in use" if place.directory == status.selected else "usable"
        else:
            state = "; ".join(place.problems)
        places.append({"directory": str(place.directory), "state": state})
        lines.append(f"  {place.directory}: {state}")
    daemons = running_daemons()
    for daemon in daemons:
        project = mirrored_project(Path(str(daemon.get("workspace"))))  # the folder its apex-ls mirror stands for
        shown = one_line(str(project))  # a folder's name may hold escape sequences
        lines.append(f"daemon   pid {daemon.get('pid')} for {shown}, idle {daemon.get('idleSeconds')} s")
    if not as_json:
        click.echo("\n".join(lines))
    if not ready:
        click.echo(f"'apexgen check --deep' cannot run yet: see above, and run '{INSTALL_COMMAND}'", err=True)
    result = {
        "ready": ready,
        **runtimes,
        "javac": str(status.javac) if status.javac else None,
        "pinned": dict(PINNED_PACKAGES),
        "places": places,
        "daemons": daemons,
    }
    finish(result, ExitCode.OK if ready else ExitCode.USAGE, as_json)


@tools.command("stop")
@project_dir_option
@click.option("--all", "every", is_flag=True, help="Stop the check daemons of every project, not this one's.")
@json_option("how many stopped")
def tools_stop(project_dir: str | None, every: bool, as_json: bool) -> None:
    """Stop the project's check daemon: the JVM that keeps apex-ls and PMD loaded between deep checks.

    Each stops by itself after half an hour without a check, and at most three run (the one idle longest
    stops first); the next deep check starts one again. --all stops those of every project.
    """
    from apexgen.check.apex_ls import mirrored_project
    from apexgen.check.daemon import stop_daemons

    root = None if every else project_root(project_dir).resolve()
    stopped = stop_daemons(None if root is None else lambda daemon: mirrored_project(Path(daemon["workspace"])) == root)
    click.echo(f"Stopped {stopped} check daemon(s).", err=True)
    if as_json:
        echo_result({"stopped": stopped})


def echo_pre_deploy_findings(findings: list[Any]) -> None:
    """The rule findings of the checks a deploy or a package build ran, on stderr: each one at ``high`` or
    above (what Code Analyzer ranks as security and likely bugs), and a count of the others, which
    'apexgen check' lists. (Deploy blockers stopped the deploy before this.)"""
    from apexgen.check.findings import at_or_above, summarize

    for finding in findings:
        if at_or_above(finding, "high"):
            click.echo(f"check: {finding}", err=True)
    counts = counted(summarize([f for f in findings if not at_or_above(f, "high")])["rule_findings"])
    if counts:
        click.echo(f"check: {counts} rule finding(s) not shown: 'apexgen check' lists them", err=True)


def counted(by_severity: dict[str, int]) -> str:
    """'3 high, 16 moderate' for the severities that have findings, most severe first."""
    return ", ".join(f"{count} {severity}" for severity, count in by_severity.items() if count)
