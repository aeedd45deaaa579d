"""apexgen init and apexgen generate: a new project, and the files of its spec."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from apexgen.cli.options import json_option, project_dir_option, project_root, spec_option, spec_path_of
from apexgen.cli.output import echo_result
from apexgen.errors import EditedFilesError, ExitCode, UsageError
from apexgen.salesforce import API_VERSION

if TYPE_CHECKING:
    from apexgen.generate.write import Change


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--api-version", default=API_VERSION, show_default=True, help="Salesforce API version of the project.")
@click.option("--namespace", default="", help="Managed-package namespace prefix (default: none).")
@click.option(
    "--existing",
    is_flag=True,
    help="Add apexgen.toml to the SFDX project DIRECTORY is in (default: the current one), with its API "
    "version, namespace and default package directory, and the editor files and .prettierrc it lacks.",
)
@json_option("the files created")
def init(directory: str | None, api_version: str, namespace: str, existing: bool, as_json: bool) -> None:
    """Create a new SFDX project with a commented example apexgen.toml, or add one to an existing project.

    \b
    Both write the editor support: apexgen.toml names its JSON schema (.vscode/apexgen.schema.json,
    for the Even Better TOML extension), .vscode/extensions.json recommends that extension, and
    .vscode/tasks.json runs apexgen generate and apexgen check with problem matchers.

    """
    from apexgen.generate.scaffold import init_existing, init_project

    kept: list[str] = []
    if existing:
        if api_version != API_VERSION or namespace:
            raise UsageError("--existing takes the API version and namespace from sfdx-project.json; drop the flags")
        root = project_root(directory)
        created, kept = init_existing(root)
    else:
        root = Path(directory or ".").resolve()
        created = init_project(root, api_version, namespace)
    for path in created:
        click.echo(f"  create {path}", err=True)
    for path in kept:
        click.echo(f"    keep {path} (exists)", err=True)
    click.echo(
        f"{'Added apexgen to' if existing else 'Created project in'} {root}. "
        "Next: edit apexgen.toml, then run 'apexgen generate'.",
        err=True,
    )
    if as_json:
        echo_result({"projectDir": str(root), "created": created, "kept": kept})


@click.command()
@spec_option
@project_dir_option
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of what would change; write nothing.")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; exit 1 when a file would change (CI: the spec was edited and not generated again).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite generated files that were edited by hand (one no longer generated is kept, not deleted).",
)
@json_option("the changes")
def generate(
    spec_path: str | None,
    project_dir: str | None,
    dry_run: bool,
    show_diff: bool,
    check_only: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Generate the Apex of apexgen.toml: services, Flow actions, LWC controllers and their tests.

    A generated file that was edited by hand is never overwritten: generate names it, writes
    nothing and exits with 3, unless --force is given.
    """
    from apexgen.generate.manifest import records_lock
    from apexgen.generate.plan import render_plan
    from apexgen.generate.write import Action, apply_changes, plan_changes
    from apexgen.spec.load import check_project_file, load_spec, spec_root

    spec_path = spec_path_of(spec_path, project_dir)
    root = spec_root(spec_path)
    spec = check_project_file(load_spec(spec_path), root)
    plan = render_plan(spec)
    writes = not (dry_run or show_diff or check_only)

    def waiting() -> None:
        click.echo("Waiting for another apexgen command in this project to finish...", err=True)

    # One generate at a time: the second plans against what the first wrote, never beside it.
    with records_lock(root, exclusive=writes, on_wait=waiting):
        changes = plan_changes(root, plan)
        try:
            if writes:
                changes = apply_changes(root, changes, force=force)
        except EditedFilesError as exc:
            exc.data = _changes_json(changes, written=False)  # the JSON error says what would have changed
            raise
    stale = check_only and any(change.action not in (Action.UNCHANGED, Action.OWNED) for change in changes)
    status = ExitCode.FINDINGS if stale else ExitCode.OK
    if as_json:
        echo_result(_changes_json(changes, written=writes), status)
    elif show_diff:
        for change in changes:
            click.echo(change.diff(), nl=False)
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.action.value] = counts.get(change.action.value, 0) + 1
        if change.action not in (Action.UNCHANGED, Action.OWNED) and not as_json:
            note = f" ({change.reason})" if change.reason else ""
            click.echo(f"  {change.action.value:>9} {change.path}{note}", err=True)
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
    click.echo(f"{'Would change' if not writes else 'Generated'} {len(changes)} files: {summary}", err=True)
    if stale:
        click.echo("error: the generated files are not up to date with the spec: run 'apexgen generate'", err=True)
    sys.exit(status)


def _changes_json(changes: list[Change], written: bool) -> dict[str, Any]:
    files = [{"path": c.path, "action": c.action.value, **({"reason": c.reason} if c.reason else {})} for c in changes]
    return {"written": written, "files": files}
