"""1GP package uploads in the packaging org: PackageUploadRequest for the org's MetadataPackage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apexgen.errors import UsageError
from apexgen.org.metadata import MetadataClient
from apexgen.org.polling import poll_intervals, poll_until
from apexgen.org.tooling import soql_quote
from apexgen.packaging.tooling import (
    FIRST_POLL_SECONDS,
    MAX_POLL_SECONDS,
    PackagingError,
    PackagingTooling,
    RecordNotFound,
    install_url,
)

UPLOAD_FINAL = ("SUCCESS", "ERROR")
# A retrieve of a package's manifest takes seconds; it runs before the upload whatever --wait says.
RETRIEVE_WAIT_SECONDS = 300.0


def find_metadata_package(tooling: PackagingTooling, namespace: str) -> tuple[str, str]:
    """The 033 id and the name of the packaging org's package with this namespace."""
    if not namespace:
        raise UsageError(
            '--package-id: pass the package\'s 033 id, or set "namespace" in sfdx-project.json '
            "to look it up in the packaging org"
        )
    rows = tooling.query(f"SELECT Id, Name FROM MetadataPackage WHERE NamespacePrefix = {soql_quote(namespace)}")
    if not rows:
        raise RecordNotFound(f"the packaging org has no package with namespace {namespace!r}; pass --package-id")
    return str(rows[0]["Id"]), str(rows[0]["Name"])


def metadata_package_name(tooling: PackagingTooling, package_id: str) -> str:
    rows = tooling.query(f"SELECT Id, Name FROM MetadataPackage WHERE Id = {soql_quote(package_id)}")
    if not rows:
        raise RecordNotFound(f"--package-id: the packaging org has no package {package_id}")
    return str(rows[0]["Name"])


def check_package_has_components(client: MetadataClient, package_name: str) -> int:
    """The number of components of the package, retrieved by name; PackagingError when it has none (the upload
    would ship nothing: components join a 1GP package when deployed with its name in package.xml)."""
    retrieve_id = client.retrieve_package(package_name)
    retrieved = poll_until(
        lambda: client.check_retrieve_status(retrieve_id),
        lambda r: r.done,
        job_id=retrieve_id,
        wait_seconds=RETRIEVE_WAIT_SECONDS,
        status_of=lambda r: r.status,
        intervals=poll_intervals(FIRST_POLL_SECONDS, MAX_POLL_SECONDS),
    )
    if retrieved.status != "Succeeded":
        raise PackagingError(
            f"retrieving package {package_name!r} to count its components failed: {'; '.join(retrieved.problems)}"
        )
    count = retrieved.member_count()
    if count == 0:
        raise PackagingError(
            f"package {package_name!r} of the packaging org has no components, so the upload would ship nothing; "
            f'deploy them into it first: apexgen deploy --package-name "{package_name}"'
        )
    return count


def parse_major_minor(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    match = re.fullmatch(r"(\d+)\.(\d+)", value)
    if not match:
        raise UsageError(f"--version: {value!r} is not MAJOR.MINOR, such as 1.2 (the patch number is assigned)")
    return int(match.group(1)), int(match.group(2))


def start_upload(
    tooling: PackagingTooling,
    package_id: str,
    version_name: str,
    *,
    release: bool,
    version: tuple[int, int] | None,
    description: str | None,
    password: str | None,
) -> str:
    """Send the PackageUploadRequest; its 0HD id."""
    fields: dict[str, Any] = {"MetadataPackageId": package_id, "VersionName": version_name, "IsReleaseVersion": release}
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
    rows = tooling.query(
        "SELECT Id, Status, MetadataPackageId, MetadataPackageVersionId, Errors "
        f"FROM PackageUploadRequest WHERE Id = {soql_quote(request_id)}"
    )
    if not rows:
        raise RecordNotFound(f"the packaging org has no upload request {request_id}")
    row = rows[0]
    errors = [e.get("message") or "" for e in ((row.get("Errors") or {}).get("errors") or [])]
    return UploadRequest(
        row["Id"], row["Status"], row.get("MetadataPackageId") or "", row.get("MetadataPackageVersionId"), errors
    )


def wait_for_upload(
    tooling: PackagingTooling, request_id: str, *, wait_seconds: float, **callbacks: Any
) -> UploadRequest:
    """Poll the upload until SUCCESS or ERROR; a SUCCESS comes back with its version number and state."""
    upload: UploadRequest = poll_until(
        lambda: fetch_upload(tooling, request_id),
        lambda u: u.finished,
        job_id=request_id,
        wait_seconds=wait_seconds,
        status_of=lambda u: u.status,
        intervals=poll_intervals(FIRST_POLL_SECONDS, MAX_POLL_SECONDS),
        **callbacks,
    )
    if upload.status == "SUCCESS" and upload.version_id:
        rows = tooling.query(
            "SELECT MajorVersion, MinorVersion, PatchVersion, ReleaseState FROM "
            f"MetadataPackageVersion WHERE Id = {soql_quote(upload.version_id)}"
        )
        if rows:
            row = rows[0]
            upload.version_number = f"{row['MajorVersion']}.{row['MinorVersion']}.{row['PatchVersion']}"
            upload.release_state = row.get("ReleaseState")
    return upload
