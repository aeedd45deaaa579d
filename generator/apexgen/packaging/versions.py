"""2GP package versions in the Dev Hub: create the Package2, build versions from the project, promote them."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apexgen.deploy.deploy import prepare
from apexgen.errors import UsageError
from apexgen.org.connect import read_secret
from apexgen.org.polling import poll_intervals, poll_until
from apexgen.org.tooling import soql_quote
from apexgen.packaging.ancestry import check_ancestor_keys
from apexgen.packaging.definition import DEFINITION_ENTRY, SETTINGS_ENTRY, BuildOrgDefinition, read_definition
from apexgen.packaging.tooling import (
    FIRST_POLL_SECONDS,
    INSTALL_KEY_VARIABLE,
    MAX_POLL_SECONDS,
    PackagingTooling,
    RecordNotFound,
    install_url,
)
from apexgen.project.sfdx_project import PackageDirectory, SfdxProject

VERSION_FINAL = ("Success", "Error")
CONTAINER_TYPES = ("Managed", "Unlocked")
# Descriptor keys apexgen copies from the package directory as they are.
DESCRIPTOR_KEYS = ("versionDescription", "postInstallScript", "uninstallScript", "postInstallUrl", "releaseNotesUrl")
# Package directory keys that need extra zips or dependency resolution apexgen does not build yet.
UNSUPPORTED_KEYS = ("dependencies", "unpackagedMetadata", "seedMetadata")
# Permission keys sf maps for the build org's user (packageUtils.resolveBuildUserPermissions): apexTestAccess
# only when coverage is calculated (the tests run as that user), packageMetadataAccess always.
ACCESS_KEYS = {
    "apexTestAccess": ("permissionSetNames", "permissionSetLicenseDeveloperNames"),
    "packageMetadataAccess": ("packageMetadataPermissionSetNames", "packageMetadataPermissionSetLicenseNames"),
}


def package_fields(name: str, container: str, description: str | None, namespace: str) -> dict[str, Any]:
    """The Package2 to create in the Dev Hub (``tooling.create("Package2", ...)``), checked offline."""
    if container not in CONTAINER_TYPES:
        raise UsageError(f"--type: {container!r} is not one of {', '.join(CONTAINER_TYPES)}")
    if container == "Managed" and not namespace:
        raise UsageError(
            '--type Managed: a managed package needs a namespace; set "namespace" in '
            "sfdx-project.json (apexgen init --namespace) to one linked to the Dev Hub"
        )
    fields: dict[str, Any] = {"Name": name, "ContainerOptions": container, "IsOrgDependent": False}
    if description:
        fields["Description"] = description
    if namespace:
        fields["NamespacePrefix"] = namespace
    return fields


@dataclass
class VersionBuild:
    """What goes to the org for a new version: the descriptor and the zips of the VersionInfo."""

    package_id: str
    directory: PackageDirectory
    descriptor: dict[str, Any]
    package_zip: bytes
    component_count: int
    api_version: str
    definition: BuildOrgDefinition | None = None
    check_warnings: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def version_info(self) -> bytes:
        """The VersionInfo zip: package.zip, package2-descriptor.json and, with a definition file, the file as
        scratch-org-definition.json and its settings as settings.zip."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("package.zip", self.package_zip)
            archive.writestr("package2-descriptor.json", json.dumps(self.descriptor, indent=2))
            if self.definition is not None:
                archive.writestr(DEFINITION_ENTRY, self.definition.content)
                settings = self.definition.settings_zip(self.api_version)
                if settings is not None:
                    archive.writestr(SETTINGS_ENTRY, settings)
        return buffer.getvalue()


def _names(value: Any, key: str, project: SfdxProject, path: str) -> list[str]:
    """A list of names, or one comma-separated string of them, as sf reads apexTestAccess."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(name, str) and name.strip() for name in value):
        raise UsageError(
            f"{project.path.name}: {key} of package directory {path!r} must be a list of names "
            '(or one string of comma-separated names), such as ["AcmeAI_Access"]'
        )
    return [name.strip() for name in value]


def access_fields(project: SfdxProject, entry: dict[str, Any], code_coverage: bool) -> dict[str, list[str]]:
    """apexTestAccess / packageMetadataAccess of the package directory as the descriptor fields sf sends."""
    fields: dict[str, list[str]] = {}
    for key, (sets_field, licenses_field) in ACCESS_KEYS.items():
        access = entry.get(key)
        if access is None or (key == "apexTestAccess" and not code_coverage):
            continue
        if not isinstance(access, dict) or set(access) - {"permissionSets", "permissionSetLicenses"}:
            raise UsageError(
                f"{project.path.name}: {key} of package directory {entry.get('path')!r} takes "
                '"permissionSets" and "permissionSetLicenses"'
            )
        for name, target in (("permissionSets", sets_field), ("permissionSetLicenses", licenses_field)):
            if name in access:
                fields[target] = _names(access[name], f"{key}.{name}", project, str(entry.get("path")))
    return fields


def default_version_name(version_number: str) -> str:
    """sf's versionName when the directory has none: the version number, without a trailing .NEXT."""
    return version_number.removesuffix(".NEXT")


def branch_of(project: SfdxProject, directory: PackageDirectory, flag: str | None) -> str | None:
    """--branch, else the package directory's branch, as sf chooses."""
    if flag is not None:
        if not flag.strip():
            raise UsageError("--branch: the branch name is empty")
        return flag
    value = directory.entry.get("branch")
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise UsageError(
            f"{project.path.name}: branch of package directory {directory.path!r} must be a non-empty string"
        )
    return value


def build_version_info(
    root: Path,
    project: SfdxProject,
    package: str | None,
    checks: str,
    *,
    definition_file: Path | None = None,
    code_coverage: bool = True,
) -> VersionBuild:
    """Offline, as before a deploy: the checks of apexgen check (``checks``: auto | fast | deep | skip), then the
    package's directory converted to package.zip with its descriptor. The descriptor gets its ancestorId from
    ``ancestry.resolve_ancestor`` once the Dev Hub is reachable. ``definition_file`` (--definition-file) wins
    over the directory's definitionFile, which is relative to the project."""
    directory = project.package_directory(package)
    package_id = project.resolve(directory.package, "0Ho", "package")
    unsupported = [key for key in UNSUPPORTED_KEYS if key in directory.entry]
    if unsupported:
        raise UsageError(
            f"{project.path.name}: package directory {directory.path!r} uses {', '.join(unsupported)}, "
            "which apexgen does not build yet; create this version with sf package version create"
        )
    others = [str(e.get("path")) for e in project.directories() if e.get("path") != directory.path]
    if others:
        raise UsageError(
            f"{project.path.name}: apexgen builds versions of projects with one package directory; "
            f"this one also has {', '.join(others)} (use sf package version create)"
        )
    check_ancestor_keys(project, directory.entry)
    definition = None
    if definition_file is not None:
        definition = read_definition(definition_file, f"--definition-file {definition_file}")
    elif directory.entry.get("definitionFile"):
        named = str(directory.entry["definitionFile"])
        definition = read_definition(root / named, f"{project.path.name}: definitionFile {named}")
    notes = []
    version_name = directory.version_name
    if not version_name:
        version_name = default_version_name(directory.version_number)
        notes.append(
            "versionName is blank in sfdx-project.json, so it will be set to this default value based on the "
            f"versionNumber: {version_name}"
        )
    descriptor: dict[str, Any] = {
        "id": package_id,
        "path": directory.path,
        "versionName": version_name,
        "versionNumber": directory.version_number,
    }
    descriptor.update({key: directory.entry[key] for key in DESCRIPTOR_KEYS if key in directory.entry})
    descriptor.update(access_fields(project, directory.entry, code_coverage))
    if definition is not None:
        descriptor.update(definition.descriptor_properties)
    prepared = prepare(root, check_only=False, test_level="NoTestRun", tests=[], checks=checks)
    converted = prepared.project
    if "<fullName>" in converted.package_xml:
        raise UsageError(
            "package.xml of the converted project has a <fullName>, which makes Salesforce treat "
            "the version as 1GP; remove it from the project's manifest"
        )
    return VersionBuild(
        package_id,
        directory,
        descriptor,
        converted.zip_bytes,
        converted.component_count,
        converted.api_version,
        definition,
        prepared.check_warnings,
        notes + prepared.project.notes,
    )


def flows_in(package_dir: Path) -> list[str]:
    """The Flows of a package directory's source (source or metadata format), sorted by path."""
    found = list(package_dir.rglob("*.flow-meta.xml")) + list(package_dir.rglob("*.flow"))
    return sorted(path.relative_to(package_dir).as_posix() for path in found)


def check_patch_contents(root: Path, directory: PackageDirectory) -> None:
    """A managed package's patch version (M.m.p with p > 0) cannot contain Flows (Salesforce Help, article
    flow_considerations_packaging): refused here rather than by the build after it ran."""
    if directory.version_number.split(".")[2] == "0":
        return
    flows = flows_in(root / directory.path)
    if flows:
        raise UsageError(
            f"version {directory.version_number}: a patch version of a managed package cannot contain Flows "
            f"(Salesforce Help, flow_considerations_packaging), and package directory {directory.path!r} has "
            f"{len(flows)} ({', '.join(flows[:3])}{', ...' if len(flows) > 3 else ''}); make this change a new "
            "minor version (versionNumber M.m+1.0.NEXT) instead"
        )


def installation_key(key_file: Path | None, bypass: bool, environ: dict[str, str]) -> str | None:
    """The key subscribers need to install the version, from a file or SF_INSTALLATION_KEY; None with the bypass."""
    if bypass and key_file is not None:
        raise UsageError("--installation-key-file and --installation-key-bypass cannot be combined")
    if bypass:
        return None
    if key_file is None and INSTALL_KEY_VARIABLE not in environ:
        raise UsageError(
            f"a version needs an installation key or none on purpose: pass --installation-key-file "
            f"FILE, set {INSTALL_KEY_VARIABLE}, or pass --installation-key-bypass"
        )
    key = read_secret(INSTALL_KEY_VARIABLE, environ, key_file, None, "--installation-key-file")
    if not key:
        raise UsageError(f"the installation key is empty (--installation-key-file or {INSTALL_KEY_VARIABLE})")
    return key


def start_version(
    tooling: PackagingTooling,
    build: VersionBuild,
    key: str | None,
    *,
    code_coverage: bool,
    skip_validation: bool,
    branch: str | None = None,
    tag: str | None = None,
) -> str:
    """Send the Package2VersionCreateRequest; its 08c id. Coverage needs validation: the caller never asks for both
    code_coverage and skip_validation (the Dev Hub refuses it). Branch and Tag go as sf sends them: only when set."""
    import base64

    fields: dict[str, Any] = {
        "Package2Id": build.package_id,
        "VersionInfo": base64.b64encode(build.version_info).decode("ascii"),
        "CalculateCodeCoverage": code_coverage,
        "SkipValidation": skip_validation,
    }
    if key is not None:
        fields["InstallKey"] = key
    language = build.directory.entry.get("language")
    if language:  # the version's language, as sf sends the package directory's (the descriptor's is the build org's)
        fields["Language"] = str(language)
    if branch is not None:
        fields["Branch"] = branch
    if tag is not None:
        fields["Tag"] = tag
    return tooling.create("Package2VersionCreateRequest", fields)


@dataclass
class VersionRequest:
    """A Package2VersionCreateRequest as the org reports it, with the Package2Version it made."""

    id: str
    status: str
    package_id: str
    package_name: str
    version_id: str | None = None  # 05i
    subscriber_version_id: str | None = None  # 04t
    version_number: str | None = None  # 1.0.0-1
    code_coverage: float | None = None
    passed_coverage_check: bool = False
    coverage_calculated: bool = True
    errors: list[str] = field(default_factory=list)
    alias: str | None = None  # NAME@1.0.0-1 (NAME@1.0.0-1-BRANCH), once written to packageAliases
    branch: str | None = None
    tag: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in VERSION_FINAL

    @property
    def install_url(self) -> str | None:
        return install_url(self.subscriber_version_id) if self.subscriber_version_id else None


VERSION_REQUEST_FIELDS = (
    "Id, Status, Package2Id, Package2.Name, CalculateCodeCoverage, Branch, Tag, Package2VersionId, Package2Version.SubscriberPackageVersionId, "
    "Package2Version.CodeCoverage, Package2Version.HasPassedCodeCoverageCheck, Package2Version.MajorVersion, "
    "Package2Version.MinorVersion, Package2Version.PatchVersion, Package2Version.BuildNumber"
)


def fetch_version_request(tooling: PackagingTooling, request_id: str) -> VersionRequest:
    rows = tooling.query(
        f"SELECT {VERSION_REQUEST_FIELDS} FROM Package2VersionCreateRequest WHERE Id = {soql_quote(request_id)}"
    )
    if not rows:
        raise RecordNotFound(f"the Dev Hub has no package version request {request_id}")
    row = rows[0]
    version = row.get("Package2Version") or {}
    coverage = (version.get("CodeCoverage") or {}).get("apexCodeCoveragePercentage")
    number = None
    if version.get("MajorVersion") is not None:
        number = (
            f"{version['MajorVersion']}.{version['MinorVersion']}.{version['PatchVersion']}-{version['BuildNumber']}"
        )
    return VersionRequest(
        id=row["Id"],
        status=row["Status"],
        package_id=row.get("Package2Id") or "",
        package_name=(row.get("Package2") or {}).get("Name") or "",
        version_id=row.get("Package2VersionId"),
        subscriber_version_id=version.get("SubscriberPackageVersionId"),
        version_number=number,
        code_coverage=float(coverage) if coverage is not None else None,
        passed_coverage_check=bool(version.get("HasPassedCodeCoverageCheck")),
        coverage_calculated=bool(row.get("CalculateCodeCoverage")),
        branch=row.get("Branch"),
        tag=row.get("Tag"),
    )


def wait_for_version(
    tooling: PackagingTooling, request_id: str, *, wait_seconds: float, **callbacks: Any
) -> VersionRequest:
    """Poll the request until Success or Error; an Error comes back with every message the org gave."""
    request: VersionRequest = poll_until(
        lambda: fetch_version_request(tooling, request_id),
        lambda r: r.finished,
        job_id=request_id,
        wait_seconds=wait_seconds,
        status_of=lambda r: r.status,
        intervals=poll_intervals(FIRST_POLL_SECONDS, MAX_POLL_SECONDS),
        **callbacks,
    )
    if request.status == "Error":
        rows = tooling.query(
            f"SELECT Message FROM Package2VersionCreateRequestError WHERE ParentRequest.Id = {soql_quote(request_id)}"
        )
        request.errors = [row.get("Message") or "" for row in rows]
    return request


def record_version_alias(project: SfdxProject, request: VersionRequest) -> str | None:
    """Write NAME@M.m.p-BUILD (NAME@M.m.p-BUILD-BRANCH for a version on a branch) -> 04t into packageAliases, as
    sf does: NAME is the project's alias of the package (Package2.Name when the project has none)."""
    if not (request.subscriber_version_id and request.version_number):
        return None
    name = project.alias_of(request.package_id) or request.package_name
    request.alias = f"{name}@{request.version_number}" + (f"-{request.branch}" if request.branch else "")
    project.set_alias(request.alias, request.subscriber_version_id)
    project.save()
    return request.alias


def version_passed(request: VersionRequest) -> bool:
    """Success, and 75% coverage or more when it was calculated (without, the user chose a version that cannot
    be promoted: it installs in scratch orgs and sandboxes only)."""
    if request.status != "Success":
        return False
    return request.passed_coverage_check or not request.coverage_calculated


@dataclass
class PromotedVersion:
    subscriber_version_id: str
    version_id: str
    package_name: str
    version_number: str
    already_released: bool


def promote_version(tooling: PackagingTooling, subscriber_version_id: str) -> PromotedVersion:
    """Release a version (IsReleased = true) so it installs in production orgs; refused under 75% coverage."""
    rows = tooling.query(
        "SELECT Id, IsReleased, HasPassedCodeCoverageCheck, CodeCoverage, Package2.Name, MajorVersion, "
        "MinorVersion, PatchVersion, BuildNumber FROM Package2Version "
        f"WHERE SubscriberPackageVersionId = {soql_quote(subscriber_version_id)}"
    )
    if not rows:
        raise RecordNotFound(f"the Dev Hub has no package version {subscriber_version_id}")
    row = rows[0]
    number = f"{row['MajorVersion']}.{row['MinorVersion']}.{row['PatchVersion']}-{row['BuildNumber']}"
    promoted = PromotedVersion(
        subscriber_version_id,
        row["Id"],
        (row.get("Package2") or {}).get("Name") or "",
        number,
        bool(row.get("IsReleased")),
    )
    if not promoted.already_released:
        tooling.update("Package2Version", row["Id"], {"IsReleased": True})
    return promoted
