"""apexgen package surface, and the released-surface guard of version create, promote and upload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from apexgen.cli.options import json_option, project_dir_option, project_root
from apexgen.cli.output import echo_result


def guard_version(tooling: Any, root: Path, build: Any, ancestor: Any) -> Any:
    """Before a managed 2GP version is sent: no Flows in a patch, and every member its ancestor released kept. The
    surface it is built from (kept until promotion), or None for an unlocked package."""
    from apexgen.packaging.ancestry import container_options
    from apexgen.packaging.surface import RELEASED_DIR, check_against_release, read_surface
    from apexgen.packaging.versions import check_patch_contents

    if container_options(tooling, build.package_id) != "Managed":
        return None
    check_patch_contents(root, build.directory)
    package_dir = root / build.directory.path
    if not ancestor.version_id:
        return read_surface(package_dir)
    what = f"version {build.directory.version_number}"
    surface = check_against_release(root, package_dir, ancestor.number, what)
    click.echo(f"{what} keeps what {ancestor.number} released ({RELEASED_DIR}/{ancestor.number}.json)", err=True)
    return surface


def keep_built_surface(root: Path, request: Any, surface: Any) -> None:
    """Keep the surface a managed version was built from until it is promoted (None: unlocked, or --resume)."""
    from apexgen.packaging.surface import record_built

    if surface is not None and request.subscriber_version_id and request.version_number:
        record_built(root, request.subscriber_version_id, surface, request.version_number)


def _package_dir(project: Any) -> Path:
    from apexgen.project.sfdx_project import default_directory_path

    return Path(project.root) / default_directory_path(project)


def guard_upload(tooling: Any, project: Any, package_id: str) -> None:
    """Before a 1GP upload: every member the highest released version of the package released is kept."""
    from apexgen.org.tooling import soql_quote
    from apexgen.packaging.surface import RELEASED_DIR, check_against_release

    rows = tooling.query(
        "SELECT Id, MajorVersion, MinorVersion, PatchVersion FROM MetadataPackageVersion "
        f"WHERE MetadataPackageId = {soql_quote(package_id)} AND ReleaseState = 'Released' "
        "ORDER BY MajorVersion DESC, MinorVersion DESC, PatchVersion DESC LIMIT 1"
    )
    if rows:
        number = f"{rows[0]['MajorVersion']}.{rows[0]['MinorVersion']}.{rows[0]['PatchVersion']}"
        check_against_release(Path(project.root), _package_dir(project), number, "this upload")
        click.echo(f"The upload keeps what {number} released ({RELEASED_DIR}/{number}.json)", err=True)


def record_released(project: Any, subscriber_version_id: str, version_number: str) -> None:
    """Record a released version's surface in the repository, and say where (and from what)."""
    from apexgen.packaging.surface import record_release

    path, kept = record_release(Path(project.root), _package_dir(project), subscriber_version_id, version_number)
    source = "as it was built" if kept else "read from the project as it is now (no record kept from its build)"
    click.echo(f"Recorded the released surface, {source}, in {path}: commit it with the project", err=True)


@click.command("surface")
@click.option(
    "--record",
    "version",
    metavar="M.m.p",
    help="Record the project's surface as released version M.m.p (for a release made without apexgen).",
)
@project_dir_option
@json_option("the surface")
def package_surface(version: str | None, as_json: bool, project_dir: str | None) -> None:
    """Print what a managed package makes public: global Apex members and components' @api
    properties and targets, as version create compares them with the released ancestor's.

    \b
    Exit codes: 0 printed (or recorded); 2 bad input.
    """
    import re

    from apexgen.errors import UsageError
    from apexgen.packaging.surface import RELEASED_DIR, read_surface, write_surface
    from apexgen.project.sfdx_project import SfdxProject

    project = SfdxProject.load(project_root(project_dir))
    surface = read_surface(_package_dir(project))
    if version is not None:
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise UsageError(f"--record: {version!r} is not a version number M.m.p, such as 1.2.0")
        path = write_surface(Path(project.root), RELEASED_DIR, version, surface, {"version": version})
        click.echo(f"Recorded the project's surface as released version {version} in {path}", err=True)
    if as_json:
        echo_result(surface.to_json())
    else:
        for key, declaration in sorted(surface.apex.items()):
            click.echo(f"{key}: {declaration}")
        for name, component in sorted(surface.components.items()):
            click.echo(
                f"{name}: @api {', '.join(component['api']) or '(none)'}; targets {', '.join(component['targets'])}"
            )
