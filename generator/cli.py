"""The apexgen command line: the only module that imports click.

Commands call the library, then turn its results into output and exit codes. Data goes to stdout,
status and progress to stderr. Library modules are imported inside commands so that
``apexgen --help`` stays fast.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable

import click

from generator import __version__
from generator.errors import ApexgenError, ExitCode

EXIT_CODES_HELP = """\b
Exit codes:
  0    success
  1    problems found; deploy or tests failed
  2    usage error: bad flag, bad spec, missing tools
  3    a generated file was edited by hand; nothing written
  4    connection or authentication failed
  130  interrupted
"""


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Report library errors as one line on stderr with their exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ApexgenError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(ExitCode.INTERRUPTED)

    return wrapper


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="apexgen")
def main() -> None:
    """Turn a short spec into a tested Salesforce Models API integration.

    apexgen writes Apex services, Flow actions and LWC controllers over aiplatform.ModelsAPI, with
    the Apex tests that cover them, checks them offline with Salesforce's own tools, and deploys them.
    """


def project_root(directory: str | None) -> Path:
    return Path(directory or ".").resolve()


# ---------------------------------------------------------------------------------------------------
# apexgen check / apexgen tools: the offline preflight with Salesforce's own tools


@main.command()
@click.option("--project-dir", type=click.Path(file_okay=False), help="The SFDX project  [default: .]")
@click.option(
    "--deep",
    is_flag=True,
    help="Also run jorje (Salesforce's Apex parser), prettier-plugin-apex, apex-ls (semantic analysis) and "
    "PMD 7, in parallel. Needs Node >= 18, Java >= 17 and 'apexgen tools install'.",
)
@click.option(
    "--pmd-rules",
    default="security,bestpractices",
    show_default=True,
    metavar="CATEGORIES",
    help="PMD Apex rule categories for --deep, comma-separated (bestpractices, codestyle, design, documentation, "
    "errorprone, multithreading, performance, security); empty to skip PMD. Security findings are errors, the "
    "others warnings.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (findings and summary) on stdout.")
@handle_errors
def check(project_dir: str | None, deep: bool, pmd_rules: str, as_json: bool) -> None:
    """Check an SFDX project offline, before it costs an org round-trip.

    \b
    Fast (pure Python): apexgen.toml, generated files against the manifest, every
    metadata XML file against the Metadata API XSD, .cls/.trigger paired with their
    -meta.xml, sfdx-project.json against Salesforce's schema, API versions.
    With --deep: jorje syntax, prettier formatting (warnings), apex-ls semantic
    errors (undefined methods, fields and types, wrong types, aiplatform), PMD.

    Prints one line per finding, sorted: file:line:col severity tool rule message.
    Exits 0 when there is no error (warnings alone do not fail), 1 when there are
    errors, 2 when --deep tools are missing.
    """
    import json

    from generator.check import run_checks, summarize

    findings = run_checks(project_root(project_dir), deep=deep, pmd_rules=pmd_rules.split(","))
    summary = {**summarize(findings), "deep": deep}
    if as_json:
        click.echo(json.dumps({"findings": [f.to_dict() for f in findings], "summary": summary}, indent=2))
    else:
        for finding in findings:
            click.echo(str(finding))
        kind = "deep" if deep else "fast"
        click.echo(f"{summary['errors']} error(s), {summary['warnings']} warning(s) ({kind} check)", err=True)
    sys.exit(ExitCode.FINDINGS if summary["errors"] else ExitCode.OK)


@main.group()
def tools() -> None:
    """Install and inspect what 'apexgen check --deep' runs: pinned npm packages, Node and Java."""


@tools.command("install")
@handle_errors
def tools_install() -> None:
    """npm-install the pinned packages into the per-user cache (npm shows its own progress).

    Exits 2 when Node, npm or Java is missing, saying how to get it.
    """
    from generator.errors import ToolsMissingError
    from generator.toolchain import PINNED_PACKAGES, cache_install_dir, install_tools, runtime_problems

    pins = " ".join(f"{package}@{version}" for package, version in PINNED_PACKAGES.items())
    click.echo(f"Installing {pins} into {cache_install_dir()}", err=True)
    node_modules = install_tools()
    click.echo(str(node_modules))
    problems = runtime_problems()
    if problems:
        raise ToolsMissingError(f"the Node packages are installed, but still missing: {'; '.join(problems)}")
    click.echo("Ready: 'apexgen check --deep' can run.", err=True)


@tools.command("status")
@click.option("--project-dir", type=click.Path(file_okay=False), help="The project whose tools to look for  [default: .]")
@handle_errors
def tools_status(project_dir: str | None) -> None:
    """Show the runtimes found and, for every place searched, whether the pinned packages are there.

    Exits 0 when 'apexgen check --deep' can run, 2 when something is missing.
    """
    from generator.toolchain import INSTALL_COMMAND, MIN_JAVA, MIN_NODE, PINNED_PACKAGES, tools_status

    status = tools_status(project_root(project_dir))
    ready = status.selected is not None
    for name, major, minimum in (("node", status.node, MIN_NODE), ("java", status.java, MIN_JAVA)):
        state = "not found" if major is None else f"{major} ({'ok' if major >= minimum else 'too old'})"
        ready = ready and major is not None and major >= minimum
        click.echo(f"{name:<8} {state}, needs >= {minimum}")
    click.echo("pinned   " + " ".join(f"{package}@{version}" for package, version in PINNED_PACKAGES.items()))
    for place in status.places:
        if not place.exists:
            state = "not present"
        elif place.usable:
            state = "in use" if place.directory == status.selected else "usable"
        else:
            state = "; ".join(place.problems)
        click.echo(f"  {place.directory}: {state}")
    if not ready:
        click.echo(f"'apexgen check --deep' cannot run yet: see above, and run '{INSTALL_COMMAND}'", err=True)
        sys.exit(ExitCode.USAGE)
