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


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--api-version", default="65.0", show_default=True, help="Salesforce API version of the project.")
@handle_errors
def init(directory: str | None, api_version: str) -> None:
    """Create a new SFDX project with a commented example apexgen.toml."""
    from generator.scaffold import init_project

    root = project_root(directory)
    for path in init_project(root, api_version):
        click.echo(f"  create {path}", err=True)
    click.echo(f"Created project in {root}. Next: edit apexgen.toml, then run 'apexgen generate'.", err=True)


@main.command()
@click.option("--spec", "spec_path", default="apexgen.toml", show_default=True, type=click.Path(dir_okay=False),
              help="The spec; the project root is the folder that holds it.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of what would change; write nothing.")
@click.option("--force", is_flag=True, help="Overwrite generated files that were edited by hand.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as one JSON document.")
@handle_errors
def generate(spec_path: str, dry_run: bool, show_diff: bool, force: bool, as_json: bool) -> None:
    """Generate the Apex of apexgen.toml: services, Flow actions, LWC controllers and their tests.

    A generated file that was edited by hand is never overwritten: generate names it, writes
    nothing and exits with 3, unless --force is given.
    """
    from generator.render import render_plan
    from generator.spec import load_spec
    from generator.write import Action, apply_changes, plan_changes

    spec = load_spec(spec_path)
    root = Path(spec_path).resolve().parent
    changes = plan_changes(root, render_plan(spec))
    writes = not (dry_run or show_diff)
    if writes:
        apply_changes(root, changes, force=force)
    if as_json:
        import json

        document = {
            "written": writes,
            "files": [{"path": c.path, "action": c.action.value, **({"reason": c.reason} if c.reason else {})} for c in changes],
        }
        click.echo(json.dumps(document, indent=2))
    elif show_diff:
        for change in changes:
            click.echo(change.diff(), nl=False)
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.action.value] = counts.get(change.action.value, 0) + 1
        if change.action is not Action.UNCHANGED and not as_json:
            note = f" ({change.reason})" if change.reason else ""
            click.echo(f"  {change.action.value:>9} {change.path}{note}", err=True)
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
    click.echo(f"{'Would change' if not writes else 'Generated'} {len(changes)} files: {summary}", err=True)
