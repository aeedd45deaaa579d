"""apexgen convert: the project in the metadata format, as ``sf project convert source`` writes it, or the deploy zip."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from apexgen.cli.options import json_option, package_dir_option, project_dir_option, project_root
from apexgen.cli.output import echo_result, warn
from apexgen.errors import UsageError

# As with sf: a folder conversion applies sfdx-project.json's replacements only when this is "true".
APPLY_REPLACEMENTS_VARIABLE = "SF_APPLY_REPLACEMENTS_ON_CONVERT"


@click.command()
@project_dir_option
@click.option(
    "--output-dir",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the metadata-format folder here (package.xml at its root); it must be new or empty (sf writes "
    "into a folder that holds files; apexgen refuses one).",
)
@click.option(
    "--zip",
    "zip_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the zip apexgen deploy would send (replacements of sfdx-project.json applied).",
)
@package_dir_option("-p")
@json_option("what was written")
def convert(
    project_dir: str | None,
    output_dir: Path | None,
    zip_file: Path | None,
    package_dirs: tuple[str, ...],
    as_json: bool,
) -> None:
    """Convert the SFDX project to the metadata format, as sf project convert source does, without Node.

    Every package directory of sfdx-project.json, as sf project deploy start deploys them, unless
    --package-dir names some. Types, folders and merged files (custom objects, labels, ...) follow the
    sf CLI's own metadata registry. Files that are not metadata (jest mocks, READMEs) are skipped and
    counted; a file that looks like metadata but belongs to no component, broken XML in a file that must
    be merged, or a package directory outside the project stops it (exit 2) and nothing is written.
    """
    from apexgen.convert import convert_project, deploy_zip

    if output_dir is None and zip_file is None:
        raise UsageError("say where to write: --output-dir DIR (a metadata-format folder) or --zip FILE")
    if zip_file is not None and not zip_file.name:  # "" and "." are Path(".")
        raise UsageError("--zip: name the file to write, such as deploy.zip")
    if output_dir is not None and output_dir.is_symlink():  # the folder is renamed into place: a link is in the way
        raise UsageError(
            f"--output-dir {output_dir}: is a symbolic link (to {os.readlink(output_dir)}); "
            "name the folder itself, or a new one"
        )
    if output_dir is not None and output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise UsageError(
            f"--output-dir {output_dir}: exists and is not empty; apexgen writes a new folder whole, where sf "
            "writes into it: name a new or empty folder"
        )
    root = project_root(project_dir)
    chosen = list(package_dirs) or None
    notes: list[str] = []
    result: dict[str, object] = {}
    if output_dir is not None:
        replacements = os.environ.get(APPLY_REPLACEMENTS_VARIABLE) == "true"
        conversion = convert_project(root, chosen, replacements=replacements)
        _write_folder(conversion.write_directory, output_dir)
        click.echo(
            f"Converted {conversion.component_count} components from {len(conversion.package_dirs)} "
            f"package directories: {len(conversion.outputs) + 1} files in {output_dir}",
            err=True,
        )
        notes = conversion.notes
        result.update(
            outputDir=str(output_dir),
            components=conversion.component_count,
            packageDirectories=[str(d) for d in conversion.package_dirs],
        )
    if zip_file is not None:
        deployable = deploy_zip(root, chosen)
        _write_file(deployable.zip_bytes, zip_file)
        click.echo(f"Wrote the deploy zip of {deployable.component_count} components to {zip_file}", err=True)
        notes = deployable.notes
        result.update(zip=str(zip_file), components=deployable.component_count)
    for note in notes:
        warn(note)
    if as_json:
        echo_result(result)


def _write_folder(write: Callable[[Path], None], target: Path) -> None:
    """Write into a new folder beside ``target`` and move it in place, so a failure leaves nothing half-written."""
    import shutil
    import tempfile

    parent = target.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    except OSError as exc:
        raise UsageError(f"--output-dir {target}: cannot create it ({exc.strerror})") from None
    try:
        write(staging)
        if target.exists():
            target.rmdir()  # checked empty before converting
        staging.rename(target)
    except OSError as exc:
        raise UsageError(f"--output-dir {target}: cannot write it ({exc.strerror})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_file(data: bytes, target: Path) -> None:
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"--zip {target}: cannot write it ({exc.strerror})") from None
