"""Packaging on the Tooling API: what 2GP versions (``versions``) and 1GP uploads (``uploads``) share.

Managed and unlocked package versions: 2GP through the Dev Hub's Tooling API, 1GP uploads in the packaging org.

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

from collections.abc import Callable
from typing import Any

from apexgen.errors import ApexgenError, ExitCode, UsageError
from apexgen.org.metadata import RequestNotConfirmed
from apexgen.org.tooling import ToolingSession
from apexgen.project.sfdx_project import is_record_id

INSTALL_URL = "https://login.salesforce.com/packaging/installPackage.apexp?p0="
INSTALL_KEY_VARIABLE = "SF_INSTALLATION_KEY"
FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 10.0


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
        return str(
            self._call(False, self._send("POST", f"tooling/sobjects/{sobject}", fields, f"create {sobject}"))["id"]
        )

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
                raise RequestNotConfirmed(
                    f"{what}: the connection to the org failed or was dropped; the request "
                    "was not re-sent, so it may or may not have reached the org"
                ) from None

        return action
