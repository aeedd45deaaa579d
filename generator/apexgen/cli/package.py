"""apexgen package: 2GP package versions (Dev Hub) and 1GP uploads (packaging org)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from apexgen.cli.check import echo_pre_deploy_findings
from apexgen.cli.options import (
    dev_hub_connection,
    json_option,
    org_connection,
    project_dir_option,
    project_root,
    wait_option,
)
from apexgen.cli.org import OrgLogin
from apexgen.cli.output import echo_result, finish, interrupted
from apexgen.cli.package_surface import package_surface
from apexgen.cli.progress import StatusLine
from apexgen.errors import ApexgenError, ExitCode, UsageError
from apexgen.salesforce import API_VERSION, SFDX_PROJECT_FILE


@click.group("package")
def package_group() -> None:
    """Build managed and unlocked package versions from the project.

    \b
    2GP (second-generation): the org you connect to is the Dev Hub.
      apexgen package create --name NAME         Package2, recorded in sfdx-project.json
      apexgen package version create             a version of it, polled until built
      apexgen package version promote VERSION    release a version (75% coverage needed)
    1GP (first-generation): the org you connect to is the packaging org.
      apexgen package upload --name VERSION_NAME
    sfdx-project.json keeps the same keys as `sf package ...`, so both tools work on one project.
    Managed packages: what a released version made public is recorded in .apexgen/released/
    (apexgen package surface shows it) and every later version must keep it.
    """


package_group.add_command(package_surface)


class PackagingJob:
    """The request a packaging command sends, and what the user is told about it when the command returns
    before the request ends: --wait 0, a failure (the resume command), Ctrl-C (exit 130)."""

    def __init__(self, what: str, where: str, resume: str, as_json: bool):
        self.what, self.where, self.resume, self.as_json = what, where, resume, as_json
        self.id: str | None = None
        self.in_flight = False  # the request was sent and its answer (the id) has not arrived

    def __enter__(self) -> PackagingJob:
        return self

    def __exit__(self, kind: Any, exc: Any, traceback: Any) -> None:
        if kind is KeyboardInterrupt:
            if self.id:
                interrupted(
                    f"interrupted; {self.id} goes on in {self.where}. Follow it: {self.resume} {self.id}",
                    {"id": self.id},
                )
            elif self.in_flight:
                interrupted(f"interrupted while the {self.what} was on its way; it may have started in {self.where}")
            interrupted(f"interrupted before the {self.what} was sent")
        if isinstance(exc, ApexgenError):
            if self.id:
                exc.data = {"id": self.id}
            if self.id and exc.exit_code != ExitCode.USAGE:
                click.echo(f"{self.id} may still be running in {self.where}: {self.resume} {self.id}", err=True)

    def not_waiting(self, status: str) -> None:
        if self.as_json:
            echo_result({"id": self.id, "status": status})
        else:
            click.echo(self.id)
        click.echo(f"Not waiting. Report it with: {self.resume} {self.id}", err=True)


def _package_project(root: Path) -> Any:
    from apexgen.project.sfdx_project import SfdxProject

    return SfdxProject.load(root)


@package_group.command("create")
@click.option("--name", required=True, help="Package name; also its alias in sfdx-project.json packageAliases.")
@click.option("--type", "container", type=click.Choice(["Managed", "Unlocked"]), default="Managed", show_default=True)
@click.option("--description", help="Package description (also the directory's versionDescription).")
@click.option("--path", "directory", metavar="DIR", help="Package directory  [default: the default package directory]")
@project_dir_option
@json_option("the result")
@dev_hub_connection
def package_create(
    name: str, container: str, description: str | None, directory: str | None, as_json: bool, **options: Any
) -> None:
    """Create a package (Package2) in the Dev Hub and record it in sfdx-project.json.

    The package directory gets "package", "versionName" ("ver 0.1") and "versionNumber"
    ("0.1.0.NEXT") where it has none, and packageAliases maps NAME to the new 0Ho id, as
    `sf package create` does. A managed package takes the project's namespace.

    \b
    Exit codes: 0 created; 1 the Dev Hub refused it; 2 bad input; 4 connection or login failed.
    """
    from apexgen.packaging.tooling import PackagingTooling
    from apexgen.packaging.versions import package_fields
    from apexgen.project.sfdx_project import default_directory_path

    root = project_root(options["project_dir"])
    org = OrgLogin(options, root)
    project = _package_project(root)
    path = directory or default_directory_path(project)
    project.check_new_package(name, path)
    fields = package_fields(name, container, description, project.namespace)
    tooling = PackagingTooling(org.connect(project.api_version))
    package_id = tooling.create("Package2", fields)
    project.add_package(name, package_id, path, description)
    project.save()
    click.echo(
        f"Created {container.lower()} package {name} ({package_id}); recorded it on package directory "
        f"{path} and in packageAliases of {project.path.name}",
        err=True,
    )
    if as_json:
        echo_result(
            {"id": package_id, "name": name, "type": container, "path": path, "namespace": project.namespace or None}
        )
    else:
        click.echo(package_id)


@package_group.group("version")
def package_version() -> None:
    """2GP package versions in the Dev Hub: create, resume, promote."""


def _version_json(request: Any) -> dict[str, Any]:
    from apexgen.packaging.versions import version_passed
    from apexgen.report.summary import REQUIRED_COVERAGE

    return {
        "id": request.id,
        "status": request.status,
        "success": version_passed(request),
        "package": request.package_name,
        "packageId": request.package_id,
        "versionId": request.version_id,
        "subscriberPackageVersionId": request.subscriber_version_id,
        "version": request.version_number,
        "alias": request.alias,
        "installUrl": request.install_url,
        "codeCoverage": {
            "calculated": request.coverage_calculated,
            "percent": request.code_coverage,
            "requiredPercent": REQUIRED_COVERAGE,
            "passed": request.passed_coverage_check,
        },
        "errors": request.errors,
    }


def _version_summary(request: Any) -> str:
    from apexgen.report.summary import REQUIRED_COVERAGE

    lines = [f"Package version request {request.id}: {request.status}"]
    if request.status == "Success":
        lines.append(f"Version: {request.package_name} {request.version_number} (alias {request.alias})")
        lines.append(f"Subscriber package version id: {request.subscriber_version_id}")
        lines.append(f"Install URL: {request.install_url}")
        if not request.coverage_calculated:
            lines.append(
                "Code coverage: not calculated (validation skipped or coverage off); this version cannot be promoted"
            )
        elif request.passed_coverage_check:
            lines.append(
                f"Code coverage: {request.code_coverage:g}% (meets the {REQUIRED_COVERAGE:g}% needed to promote)"
            )
        else:
            shown = "unknown" if request.code_coverage is None else f"{request.code_coverage:g}%"
            lines.append(
                f"Code coverage: {shown} (below the {REQUIRED_COVERAGE:g}% needed to promote; this "
                "version cannot be promoted)"
            )
    for error in request.errors:
        lines.extend(f"  {line}" for line in error.splitlines())
    return "\n".join(lines) + "\n"


@package_version.command("create")
@click.option("--package", metavar="NAME|ID", help="The package  [default: the default package directory's]")
@click.option(
    "--installation-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the installation key subscribers must enter (else SF_INSTALLATION_KEY).",
)
@click.option("--installation-key-bypass", is_flag=True, help="No installation key: anyone with the URL installs.")
@click.option(
    "--code-coverage/--no-code-coverage",
    default=None,
    help="Run the package's Apex tests and calculate coverage (75% needed to promote)  [default: on, "
    "off with --skip-validation]",
)
@click.option(
    "--skip-validation", is_flag=True, help="Skip validation and coverage: faster, but the version cannot be promoted."
)
@click.option(
    "--definition-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scratch-org definition of the build org (features, settings)  [default: the directory's definitionFile]",
)
@click.option("--branch", help="Branch of the version (part of its alias)  [default: the directory's branch]")
@click.option("--tag", help="Tag of the version, such as a commit id.")
@click.option(
    "--skip-ancestor-check",
    is_flag=True,
    help="Allow an ancestor that is not the highest released version (or NONE after a release).",
)
@wait_option("60", zero="sends the request and returns its id")
@click.option("--resume", metavar="REQUEST_ID", help="Wait for (and report) a version request already sent (08c...).")
@click.option("--skip-checks", is_flag=True, help="Build without the offline checks of apexgen check.")
@click.option("--deep-checks", is_flag=True, help="Run the deep checks of apexgen check first.")
@project_dir_option
@json_option("the result")
@dev_hub_connection
def package_version_create(**options: Any) -> None:
    """Build a 2GP package version from the project in the Dev Hub and wait until it is built.

    The fast checks of `apexgen check` run first, as before a deploy. The package directory's
    versionName (default: the version number) and versionNumber (M.m.p.NEXT) go into the version's
    descriptor; the project is converted to package.zip as for apexgen deploy. As sf does, a managed
    version carries its ancestor (ancestorId or ancestorVersion of the package directory: an alias, 04t
    or 05i id, M.m.p, HIGHEST or NONE); once a version is released, a new M.m.0 must name the highest
    released one. The definition file's features and settings shape the build org; apexTestAccess
    grants its permission sets to the user that runs the tests. When the version
    is built, its subscriber package version id (04t), install URL and code coverage are printed
    and the alias NAME@M.m.p-BUILD is written to packageAliases in sfdx-project.json.

    \b
    Installation key: --installation-key-file FILE or SF_INSTALLATION_KEY, or --installation-key-bypass;
    never a flag value (it would land in shell history).
    Exit codes: 0 built (with 75% coverage, unless coverage was off); 1 checks failed, the request
    failed (every error is shown), coverage is under 75%, or --wait ran out (the resume command is printed);
    2 bad input (an ancestor sf would refuse, a bad definition file, a version that drops what its
    ancestor released, or a patch with Flows); 4 connection or login failed; 130 interrupted (the request goes on in the Dev Hub).
    """
    from apexgen.cli.package_surface import guard_version, keep_built_surface
    from apexgen.org.polling import parse_wait
    from apexgen.packaging.ancestry import resolve_ancestor
    from apexgen.packaging.tooling import PackagingTooling, check_record_id
    from apexgen.packaging.versions import (
        branch_of,
        build_version_info,
        installation_key,
        record_version_alias,
        start_version,
        version_passed,
        wait_for_version,
    )

    root = project_root(options["project_dir"])
    as_json = options["as_json"]
    surface = None  # the surface the version is built from, kept until it is promoted (managed packages)
    with PackagingJob("version request", "the Dev Hub", "apexgen package version create --resume", as_json) as job:
        org = OrgLogin(options, root)
        wait_seconds = parse_wait(options["wait"])
        skip_validation = options["skip_validation"]
        if options["code_coverage"] and skip_validation:
            raise UsageError(
                "--skip-validation and --code-coverage cannot be combined: coverage is calculated "
                "while the version is validated"
            )
        if options["skip_checks"] and options["deep_checks"]:
            raise UsageError("--skip-checks and --deep-checks cannot be combined")
        code_coverage = not skip_validation if options["code_coverage"] is None else options["code_coverage"]
        project = _package_project(root)
        if options["resume"]:
            check_record_id("--resume", options["resume"], "08c", "package version request")
            given = [
                flag
                for flag, value in (
                    ("--package", options["package"]),
                    ("--installation-key-file", options["installation_key_file"]),
                    ("--installation-key-bypass", options["installation_key_bypass"]),
                    ("--skip-validation", skip_validation),
                    ("--skip-checks", options["skip_checks"]),
                    ("--deep-checks", options["deep_checks"]),
                    ("--code-coverage", options["code_coverage"] is not None),
                    ("--definition-file", options["definition_file"]),
                    ("--branch", options["branch"]),
                    ("--tag", options["tag"]),
                    ("--skip-ancestor-check", options["skip_ancestor_check"]),
                )
                if value
            ]
            if given:
                raise UsageError(f"--resume follows a request already sent; {given[0]} cannot be combined with it")
            job.id = options["resume"]
            tooling = PackagingTooling(org.connect(project.api_version))
        else:
            key = installation_key(
                options["installation_key_file"], options["installation_key_bypass"], dict(os.environ)
            )
            checks = "skip" if options["skip_checks"] else "deep" if options["deep_checks"] else "auto"
            build = build_version_info(
                root,
                project,
                options["package"],
                checks,
                definition_file=options["definition_file"],
                code_coverage=code_coverage,
            )
            branch = branch_of(project, build.directory, options["branch"])
            echo_pre_deploy_findings(build.check_warnings)
            for note in build.notes:
                click.echo(note, err=True)
            tooling = PackagingTooling(org.connect(build.api_version))
            ancestor = resolve_ancestor(
                tooling,
                project,
                build.directory.entry,
                build.package_id,
                build.directory.version_number,
                skip_ancestor_check=options["skip_ancestor_check"],
            )
            build.descriptor["ancestorId"] = ancestor.version_id
            surface = guard_version(tooling, root, build, ancestor)
            job.in_flight = True
            job.id = start_version(
                tooling,
                build,
                key,
                code_coverage=code_coverage,
                skip_validation=skip_validation,
                branch=branch,
                tag=options["tag"],
            )
            job.in_flight = False
            validation = (
                "validation skipped"
                if skip_validation
                else ("code coverage on" if code_coverage else "code coverage off")
            )
            lineage = f" (ancestor {ancestor.number})" if ancestor.version_id else ""
            on_branch = f", branch {branch}" if branch else ""
            click.echo(
                f"Package version request {job.id} started: {build.directory.package} "
                f"{build.directory.version_number}{lineage}{on_branch}, {build.component_count} components, {validation}, "
                f"{'installation key set' if key else 'no installation key'}",
                err=True,
            )
        if wait_seconds == 0:
            job.not_waiting("Queued")
            return
        with StatusLine(sys.stderr.isatty() and not as_json, f"Version request {job.id}") as status:
            request = wait_for_version(
                tooling, job.id, wait_seconds=wait_seconds, on_progress=status.update, on_retry=status.note
            )
    if record_version_alias(project, request):
        click.echo(
            f"Wrote {request.alias}: {request.subscriber_version_id} to packageAliases of {project.path.name}", err=True
        )
        keep_built_surface(root, request, surface)
    if not as_json:
        click.echo(_version_summary(request), nl=False)
    finish(_version_json(request), ExitCode.OK if version_passed(request) else ExitCode.FINDINGS, as_json)


@package_version.command("promote")
@click.argument("version", metavar="VERSION")
@project_dir_option
@json_option("the result")
@dev_hub_connection
def package_version_promote(version: str, as_json: bool, **options: Any) -> None:
    """Release a package version so production orgs can install it.

    VERSION is an alias of sfdx-project.json packageAliases (NAME@1.0.0-1) or a 04t id. The Dev
    Hub refuses versions under 75% code coverage or built without validation.

    \b
    Exit codes: 0 released (or released before); 1 the Dev Hub refused; 2 bad input;
    4 connection or login failed.
    """
    from apexgen.cli.package_surface import record_released
    from apexgen.packaging.tooling import PackagingTooling
    from apexgen.packaging.versions import promote_version

    root = project_root(options["project_dir"])
    org = OrgLogin(options, root)
    project = _package_project(root)
    subscriber_id = project.resolve(version, "04t", "package version")
    tooling = PackagingTooling(org.connect(project.api_version))
    promoted = promote_version(tooling, subscriber_id)
    state = "was already released" if promoted.already_released else "is released"
    click.echo(f"{promoted.package_name} {promoted.version_number} ({subscriber_id}) {state}", err=True)
    if project.namespace:
        record_released(project, subscriber_id, promoted.version_number)
    if as_json:
        echo_result(
            {
                "subscriberPackageVersionId": subscriber_id,
                "versionId": promoted.version_id,
                "package": promoted.package_name,
                "version": promoted.version_number,
                "released": True,
                "alreadyReleased": promoted.already_released,
            }
        )
    else:
        click.echo(subscriber_id)


def _upload_summary(upload: Any) -> str:
    lines = [f"Package upload {upload.id}: {upload.status}"]
    if upload.status == "SUCCESS":
        state = f" ({upload.release_state})" if upload.release_state else ""
        lines.append(f"Version: {upload.version_number or 'unknown'}{state}")
        lines.append(f"Package version id: {upload.version_id}")
        lines.append(f"Install URL: {upload.install_url}")
    for error in upload.errors:
        lines.extend(f"  {line}" for line in error.splitlines())
    return "\n".join(lines) + "\n"


@package_group.command("upload")
@click.option("--name", "version_name", metavar="VERSION_NAME", help='Name of the new version, e.g. "Spring \'26".')
@click.option("--release", is_flag=True, help="A released (managed-released) version; default: a beta.")
@click.option("--version", "major_minor", metavar="M.m", help="Major and minor number; the patch number is assigned.")
@click.option("--package-id", metavar="033...", help="The package  [default: looked up by the project's namespace]")
@click.option("--description", help="Version description.")
@click.option(
    "--installation-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the installation key (else SF_INSTALLATION_KEY when set; else none).",
)
@wait_option("60", zero="sends the upload and returns its id")
@click.option("--resume", metavar="UPLOAD_ID", help="Wait for (and report) an upload already sent (0HD...).")
@project_dir_option
@json_option("the result")
@org_connection
def package_upload(**options: Any) -> None:
    """Upload a 1GP managed package version from the packaging org and wait until it is built.

    The package's components are counted first (a Metadata API retrieve of the package by name): an
    empty package is not uploaded (components join it with apexgen deploy --package-name NAME). The
    packaging org runs the package's Apex tests; a failing test or coverage under 75% fails the
    upload, and every error it gives is shown. A beta installs in sandboxes and developer orgs only.

    \b
    Exit codes: 0 uploaded; 1 the package is empty, the upload failed or --wait ran out (the resume
    command is printed);
    2 bad input; 4 connection or login failed; 130 interrupted (the upload goes on in the org).
    """
    from apexgen.cli.package_surface import guard_upload, record_released
    from apexgen.org.connect import read_secret
    from apexgen.org.metadata import MetadataClient
    from apexgen.org.polling import parse_wait
    from apexgen.packaging.tooling import (
        INSTALL_KEY_VARIABLE,
        PackagingTooling,
        check_record_id,
    )
    from apexgen.packaging.uploads import (
        check_package_has_components,
        find_metadata_package,
        metadata_package_name,
        parse_major_minor,
        start_upload,
        wait_for_upload,
    )

    root = project_root(options["project_dir"])
    as_json = options["as_json"]
    with PackagingJob("upload request", "the org", "apexgen package upload --resume", as_json) as job:
        org = OrgLogin(options, root)
        wait_seconds = parse_wait(options["wait"])
        version = parse_major_minor(options["major_minor"])
        # The packaging org of a 1GP package need not be built from an SFDX project: the project is optional.
        project = _package_project(root) if (root / SFDX_PROJECT_FILE).is_file() else None
        api_version = project.api_version if project else API_VERSION
        namespace = project.namespace if project else ""
        if options["resume"]:
            check_record_id("--resume", options["resume"], "0HD", "package upload request")
            given = [
                flag
                for flag in (
                    "version_name",
                    "release",
                    "major_minor",
                    "package_id",
                    "description",
                    "installation_key_file",
                )
                if options[flag]
            ]
            if given:
                raise UsageError(
                    f"--resume follows an upload already sent; --{given[0].replace('_', '-')} cannot "
                    "be combined with it"
                )
            job.id = options["resume"]
            tooling = PackagingTooling(org.connect(api_version))
        else:
            if not options["version_name"]:
                raise UsageError("--name: name the new version (or pass --resume UPLOAD_ID)")
            if options["package_id"]:
                check_record_id("--package-id", options["package_id"], "033", "package")
            password = None
            if options["installation_key_file"] is not None or INSTALL_KEY_VARIABLE in os.environ:
                password = read_secret(
                    INSTALL_KEY_VARIABLE,
                    dict(os.environ),
                    options["installation_key_file"],
                    None,
                    "--installation-key-file",
                )
            if not options["package_id"] and not namespace:
                raise UsageError(
                    "--package-id: pass the package's 033 id, or run in a project whose "
                    "sfdx-project.json has the package's namespace"
                )
            tooling = PackagingTooling(org.connect(api_version))
            if options["package_id"]:
                package_id = options["package_id"]
                package_name = metadata_package_name(tooling, package_id)
            else:
                package_id, package_name = find_metadata_package(tooling, namespace)
            components = check_package_has_components(MetadataClient(tooling.connection), package_name)
            if project is not None:
                guard_upload(tooling, project, package_id)
            job.in_flight = True
            job.id = start_upload(
                tooling,
                package_id,
                options["version_name"],
                release=options["release"],
                version=version,
                description=options["description"],
                password=password,
            )
            job.in_flight = False
            click.echo(
                f"Package upload {job.id} started: {options['version_name']!r} of {package_name} ({package_id}, "
                f"{components} components), "
                f"{'released' if options['release'] else 'beta'}"
                + (f", version {version[0]}.{version[1]}" if version else ""),
                err=True,
            )
        if wait_seconds == 0:
            job.not_waiting("QUEUED")
            return
        with StatusLine(sys.stderr.isatty() and not as_json, f"Upload {job.id}") as status:
            upload = wait_for_upload(
                tooling, job.id, wait_seconds=wait_seconds, on_progress=status.update, on_retry=status.note
            )
    if project is not None and upload.release_state == "Released" and upload.version_id and upload.version_number:
        record_released(project, upload.version_id, upload.version_number)
    if not as_json:
        click.echo(_upload_summary(upload), nl=False)
    result = {
        "id": upload.id,
        "status": upload.status,
        "success": upload.status == "SUCCESS",
        "packageId": upload.package_id,
        "subscriberPackageVersionId": upload.version_id,
        "version": upload.version_number,
        "releaseState": upload.release_state,
        "installUrl": upload.install_url,
        "errors": upload.errors,
    }
    finish(result, ExitCode.OK if upload.status == "SUCCESS" else ExitCode.FINDINGS, as_json)
