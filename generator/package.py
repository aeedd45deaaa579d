"""Managed and unlocked package versions: 2GP through the Dev Hub's Tooling API, 1GP uploads in the packaging org.

2GP: a Package2 (0Ho) is created once; each version is a Package2VersionCreateRequest (08c) whose VersionInfo
is a zip of ``package.zip`` (the metadata-format zip an apexgen deploy sends, after the same offline checks;
its package.xml has no ``<fullName>``: with one, Salesforce treats the zip as 1GP) and
``package2-descriptor.json``. The request
ends as Success, with a Package2Version (05i) whose SubscriberPackageVersionId (04t) is what subscribers
install, or as Error, with its messages in Package2VersionCreateRequestError. Promotion sets the
Package2Version's IsReleased.

1GP: a PackageUploadRequest (0HD) for the MetadataPackage (033) of the packaging org ends as SUCCESS with a
MetadataPackageVersionId (04t) or as ERROR with its Errors.

Version builds take minutes to hours, so polls start at 0.5 s and back off to one every 10 s.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from generator.apex_tests import ToolingSession, _quote
from generator.deploy import poll_intervals, poll_until, prepare
from generator.errors import ApexgenError, ExitCode, UsageError
from generator.mdapi import RequestNotConfirmed
from generator.sfdx_project import PackageDirectory, SfdxProject, is_record_id

INSTALL_URL = "https://login.salesforce.com/packaging/installPackage.apexp?p0="
CONTAINER_TYPES = ("Managed", "Unlocked")
VERSION_FINAL = ("Success", "Error")
UPLOAD_FINAL = ("SUCCESS", "ERROR")
INSTALL_KEY_VARIABLE = "SF_INSTALLATION_KEY"
FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 10.0
# Descriptor keys apexgen copies from the package directory as they are.
DESCRIPTOR_KEYS = ("versionDescription", "postInstallScript", "uninstallScript", "postInstallUrl", "releaseNotesUrl")
# Package directory keys that need resolving (aliases to ids) or extra zips apexgen does not build yet.
UNSUPPORTED_KEYS = ("ancestorId", "ancestorVersion", "dependencies", "unpackagedMetadata", "seedMetadata",
                    "definitionFile")


class PackagingError(ApexgenError):
    """The org refused or failed a packaging request; the message holds every error it gave."""

    exit_code = ExitCode.FINDINGS


class RecordNotFound(PackagingError):
    """An id or alias that names nothing in the org: a usage error, like an unknown deploy id."""

    exit_code = ExitCode.USAGE


def check_record_id(flag: str, value: str, prefix: str, what: str) -> None:
    if not is_record_id(value, prefix):
        raise UsageError(f"{flag}: {value!r} is not a {what} id ({prefix} and 12 or 15 letters and digits)")


def install_url(subscriber_version_id: str) -> str:
    return INSTALL_URL + subscriber_version_id


class PackagingTooling(ToolingSession):
    """ToolingSession plus the sobject create and update calls packaging needs. Creates start work in the org,
    so they are sent once: a dropped answer is reported, never re-sent. Request bodies are never logged (the
    installation key travels in one)."""

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        self.connection.log(f"POST tooling/sobjects/{sobject}")
        return self._call(False, self._send("POST", f"tooling/sobjects/{sobject}", fields, f"create {sobject}"))["id"]

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        self.connection.log(f"PATCH tooling/sobjects/{sobject}/{record_id}")
        self._call(False, self._send("PATCH", f"tooling/sobjects/{sobject}/{record_id}", fields, f"update {sobject}"))

    def _send(self, method: str, path: str, fields: dict[str, Any], what: str) -> Callable[[Any], Any]:
        import requests

        timeout = self.connection.timeout

        def action(sf: Any) -> Any:
            try:
                return sf.restful(path, method=method, json=fields, timeout=timeout)
            except requests.RequestException:
                raise RequestNotConfirmed(f"{what}: the connection to the org failed or was dropped; the request "
                                          "was not re-sent, so it may or may not have reached the org") from None

        return action


# ---------------------------------------------------------------------------------------------- 2GP


def package_fields(name: str, container: str, description: str | None, namespace: str) -> dict[str, Any]:
    """The Package2 to create in the Dev Hub (``tooling.create("Package2", ...)``), checked offline."""
    if container not in CONTAINER_TYPES:
        raise UsageError(f"--type: {container!r} is not one of {', '.join(CONTAINER_TYPES)}")
    if container == "Managed" and not namespace:
        raise UsageError("--type Managed: a managed package needs a namespace; set \"namespace\" in "
                         "sfdx-project.json (apexgen init --namespace) to one linked to the Dev Hub")
    fields: dict[str, Any] = {"Name": name, "ContainerOptions": container, "IsOrgDependent": False}
    if description:
        fields["Description"] = description
    if namespace:
        fields["NamespacePrefix"] = namespace
    return fields


@dataclass
class VersionBuild:
    """What goes to the org for a new version: the VersionInfo zip and what it holds."""

    package_id: str
    directory: PackageDirectory
    version_info: bytes
    component_count: int
    api_version: str
    check_warnings: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build_version_info(root: Path, project: SfdxProject, package: str | None, checks: str) -> VersionBuild:
    """Offline, as before a deploy: the checks of apexgen check (``checks``: auto | fast | deep | skip), then the package's
    directory converted to package.zip and wrapped with its descriptor."""
    directory = project.package_directory(package)
    package_id = project.resolve(directory.package, "0Ho", "package")
    unsupported = [key for key in UNSUPPORTED_KEYS if key in directory.entry]
    if unsupported:
        raise UsageError(f"{project.path.name}: package directory {directory.path!r} uses {', '.join(unsupported)}, "
                         "which apexgen does not build yet; create this version with sf package version create")
    others = [str(e.get("path")) for e in project.directories() if e.get("path") != directory.path]
    if others:
        raise UsageError(f"{project.path.name}: apexgen builds versions of projects with one package directory; "
                         f"this one also has {', '.join(others)} (use sf package version create)")
    prepared = prepare(root, check_only=False, test_level="NoTestRun", tests=[], checks=checks)
    converted = prepared.project
    if "<fullName>" in converted.package_xml:
        raise UsageError("package.xml of the converted project has a <fullName>, which makes Salesforce treat "
                         "the version as 1GP; remove it from the project's manifest")
    descriptor: dict[str, Any] = {"id": package_id, "path": directory.path, "versionName": directory.version_name,
                                  "versionNumber": directory.version_number}
    descriptor.update({key: directory.entry[key] for key in DESCRIPTOR_KEYS if key in directory.entry})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("package.zip", converted.zip_bytes)
        archive.writestr("package2-descriptor.json", json.dumps(descriptor, indent=2))
    return VersionBuild(package_id, directory, buffer.getvalue(), converted.component_count,
                        converted.api_version, prepared.check_warnings, prepared.notes)


def installation_key(key_file: Path | None, bypass: bool, environ: dict[str, str]) -> str | None:
    """The key subscribers need to install the version, from a file or SF_INSTALLATION_KEY; None with the bypass."""
    from generator.connect import read_secret

    if bypass and key_file is not None:
        raise UsageError("--installation-key-file and --installation-key-bypass cannot be combined")
    if bypass:
        return None
    if key_file is None and INSTALL_KEY_VARIABLE not in environ:
        raise UsageError(f"a version needs an installation key or none on purpose: pass --installation-key-file "
                         f"FILE, set {INSTALL_KEY_VARIABLE}, or pass --installation-key-bypass")
    key = read_secret(INSTALL_KEY_VARIABLE, environ, key_file, None, "--installation-key-file")
    if not key:
        raise UsageError(f"the installation key is empty (--installation-key-file or {INSTALL_KEY_VARIABLE})")
    return key


def start_version(tooling: PackagingTooling, build: VersionBuild, key: str | None, *, code_coverage: bool,
                  skip_validation: bool) -> str:
    """Send the Package2VersionCreateRequest; its 08c id. Coverage needs validation: the caller never asks for both
    code_coverage and skip_validation (the Dev Hub refuses it)."""
    import base64

    fields: dict[str, Any] = {
        "Package2Id": build.package_id,
        "VersionInfo": base64.b64encode(build.version_info).decode("ascii"),
        "CalculateCodeCoverage": code_coverage,
        "SkipValidation": skip_validation,
    }
    if key is not None:
        fields["InstallKey"] = key
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
    alias: str | None = None  # NAME@1.0.0-1, once written to packageAliases

    @property
    def finished(self) -> bool:
        return self.status in VERSION_FINAL

    @property
    def install_url(self) -> str | None:
        return install_url(self.subscriber_version_id) if self.subscriber_version_id else None


VERSION_REQUEST_FIELDS = (
    "Id, Status, Package2Id, Package2.Name, CalculateCodeCoverage, Package2VersionId, Package2Version.SubscriberPackageVersionId, "
    "Package2Version.CodeCoverage, Package2Version.HasPassedCodeCoverageCheck, Package2Version.MajorVersion, "
    "Package2Version.MinorVersion, Package2Version.PatchVersion, Package2Version.BuildNumber"
)


def fetch_version_request(tooling: PackagingTooling, request_id: str) -> VersionRequest:
    rows = tooling.query(f"SELECT {VERSION_REQUEST_FIELDS} FROM Package2VersionCreateRequest "
                         f"WHERE Id = {_quote(request_id)}")
    if not rows:
        raise RecordNotFound(f"the Dev Hub has no package version request {request_id}")
    row = rows[0]
    version = row.get("Package2Version") or {}
    coverage = (version.get("CodeCoverage") or {}).get("apexCodeCoveragePercentage")
    number = None
    if version.get("MajorVersion") is not None:
        number = (f"{version['MajorVersion']}.{version['MinorVersion']}.{version['PatchVersion']}"
                  f"-{version['BuildNumber']}")
    return VersionRequest(
        id=row["Id"], status=row["Status"], package_id=row.get("Package2Id") or "",
        package_name=(row.get("Package2") or {}).get("Name") or "", version_id=row.get("Package2VersionId"),
        subscriber_version_id=version.get("SubscriberPackageVersionId"), version_number=number,
        code_coverage=float(coverage) if coverage is not None else None,
        passed_coverage_check=bool(version.get("HasPassedCodeCoverageCheck")),
        coverage_calculated=bool(row.get("CalculateCodeCoverage")),
    )


def wait_for_version(tooling: PackagingTooling, request_id: str, *, wait_seconds: float,
                     **callbacks: Any) -> VersionRequest:
    """Poll the request until Success or Error; an Error comes back with every message the org gave."""
    request = poll_until(lambda: fetch_version_request(tooling, request_id), lambda r: r.finished,
                         job_id=request_id, wait_seconds=wait_seconds, status_of=lambda r: r.status,
                         intervals=poll_intervals(FIRST_POLL_SECONDS, MAX_POLL_SECONDS), **callbacks)
    if request.status == "Error":
        rows = tooling.query("SELECT Message FROM Package2VersionCreateRequestError "
                             f"WHERE ParentRequest.Id = {_quote(request_id)}")
        request.errors = [row.get("Message") or "" for row in rows]
    return request


def record_version_alias(project: SfdxProject, request: VersionRequest) -> str | None:
    """Write NAME@M.m.p-BUILD -> 04t into packageAliases, as sf does: NAME is the project's alias of the package
    (Package2.Name when the project has none)."""
    if not (request.subscriber_version_id and request.version_number):
        return None
    name = project.alias_of(request.package_id) or request.package_name
    request.alias = f"{name}@{request.version_number}"
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
        f"WHERE SubscriberPackageVersionId = {_quote(subscriber_version_id)}"
    )
    if not rows:
        raise RecordNotFound(f"the Dev Hub has no package version {subscriber_version_id}")
    row = rows[0]
    number = f"{row['MajorVersion']}.{row['MinorVersion']}.{row['PatchVersion']}-{row['BuildNumber']}"
    promoted = PromotedVersion(subscriber_version_id, row["Id"], (row.get("Package2") or {}).get("Name") or "",
                               number, bool(row.get("IsReleased")))
    if not promoted.already_released:
        tooling.update("Package2Version", row["Id"], {"IsReleased": True})
    return promoted


# ---------------------------------------------------------------------------------------------- 1GP


def find_metadata_package(tooling: PackagingTooling, namespace: str) -> str:
    """The 033 id of the packaging org's package with this namespace."""
    if not namespace:
        raise UsageError("--package-id: pass the package's 033 id, or set \"namespace\" in sfdx-project.json "
                         "to look it up in the packaging org")
    rows = tooling.query(f"SELECT Id, Name FROM MetadataPackage WHERE NamespacePrefix = {_quote(namespace)}")
    if not rows:
        raise RecordNotFound(f"the packaging org has no package with namespace {namespace!r}; pass --package-id")
    return rows[0]["Id"]


def parse_major_minor(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    match = re.fullmatch(r"(\d+)\.(\d+)", value)
    if not match:
        raise UsageError(f"--version: {value!r} is not MAJOR.MINOR, such as 1.2 (the patch number is assigned)")
    return int(match.group(1)), int(match.group(2))


def start_upload(tooling: PackagingTooling, package_id: str, version_name: str, *, release: bool,
                 version: tuple[int, int] | None, description: str | None, password: str | None) -> str:
    """Send the PackageUploadRequest; its 0HD id."""
    fields: dict[str, Any] = {"MetadataPackageId": package_id, "VersionName": version_name,
                              "IsReleaseVersion": release}
    if version is not None:
        fields["MajorVersion"], fields["MinorVersion"] = version
    if description:
        fields["Description"] = description
    if password:
        fields["Password"] = password
    return tooling.create("PackageUploadRequest", fields)


@dataclass
class UploadRequest:
    id: str
    status: str
    package_id: str
    version_id: str | None  # 04t
    errors: list[str]
    version_number: str | None = None
    release_state: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in UPLOAD_FINAL

    @property
    def install_url(self) -> str | None:
        return install_url(self.version_id) if self.version_id else None


def fetch_upload(tooling: PackagingTooling, request_id: str) -> UploadRequest:
    rows = tooling.query("SELECT Id, Status, MetadataPackageId, MetadataPackageVersionId, Errors "
                         f"FROM PackageUploadRequest WHERE Id = {_quote(request_id)}")
    if not rows:
        raise RecordNotFound(f"the packaging org has no upload request {request_id}")
    row = rows[0]
    errors = [e.get("message") or "" for e in ((row.get("Errors") or {}).get("errors") or [])]
    return UploadRequest(row["Id"], row["Status"], row.get("MetadataPackageId") or "",
                         row.get("MetadataPackageVersionId"), errors)


def wait_for_upload(tooling: PackagingTooling, request_id: str, *, wait_seconds: float,
                    **callbacks: Any) -> UploadRequest:
    """Poll the upload until SUCCESS or ERROR; a SUCCESS comes back with its version number and state."""
    upload = poll_until(lambda: fetch_upload(tooling, request_id), lambda u: u.finished, job_id=request_id,
                        wait_seconds=wait_seconds, status_of=lambda u: u.status,
                        intervals=poll_intervals(FIRST_POLL_SECONDS, MAX_POLL_SECONDS), **callbacks)
    if upload.status == "SUCCESS" and upload.version_id:
        rows = tooling.query("SELECT MajorVersion, MinorVersion, PatchVersion, ReleaseState FROM "
                             f"MetadataPackageVersion WHERE Id = {_quote(upload.version_id)}")
        if rows:
            row = rows[0]
            upload.version_number = f"{row['MajorVersion']}.{row['MinorVersion']}.{row['PatchVersion']}"
            upload.release_state = row.get("ReleaseState")
    return upload
