"""Metadata API client (SOAP) on a session that simple-salesforce authenticated.

simple-salesforce's own ``deploy``/``checkDeployStatus`` keep neither line numbers nor code coverage, send
Python ``True``/``None`` text in DeployOptions and never retry; this client builds schema-valid envelopes with
lxml and parses a DeployResult into typed values that keep everything the org reports.

Retries: status calls (checkDeployStatus) are idempotent, so they go through a session whose urllib3 Retry
covers connection resets, read timeouts and 502/503/504. Calls that start work in the org (deploy,
deployRecentValidation, cancelDeploy) go through a session without retries: a request is never sent twice.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from apexgen.errors import ApexgenError, ExitCode, UsageError
from apexgen.org.polling import TransientError
from apexgen.org.results import (
    DeployResult,
    field_bool,
    field_text,
    parse_deploy_result,
)
from apexgen.salesforce import METADATA_NAMESPACE

if TYPE_CHECKING:
    from lxml import etree

    from apexgen.org.connect import Connection

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MD = METADATA_NAMESPACE
XSI = "http://www.w3.org/2001/XMLSchema-instance"
TEST_LEVELS = ("NoTestRun", "RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg")
# Fault codes after which the same status call may well succeed a moment later.
TRANSIENT_FAULTS = ("UNKNOWN_EXCEPTION", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG")


class MetadataApiError(ApexgenError):
    """The org answered a Metadata API call with a SOAP fault."""

    def __init__(self, operation: str, code: str, message: str):
        self.operation, self.code, self.fault_message = operation, code, message
        super().__init__(f"{operation}: {code}: {message}")


class DeployNotFound(MetadataApiError):
    exit_code = ExitCode.USAGE


class SessionExpired(MetadataApiError):
    exit_code = ExitCode.CONNECTION


class RequestNotConfirmed(ApexgenError):
    """A call that starts work in the org got no answer; it is not re-sent, so it may or may not have started."""

    exit_code = ExitCode.CONNECTION


@dataclass
class DeployOptions:
    check_only: bool = False
    test_level: str = "RunSpecifiedTests"
    run_tests: list[str] = field(default_factory=list)
    ignore_warnings: bool = False
    rollback_on_error: bool = True


def _q(name: str) -> str:
    return f"{{{MD}}}{name}"


def check_id(flag: str, value: str) -> None:
    """Refuse what is not a deploy or validation id as the Metadata API takes it (the WSDL's ID: 18 letters and digits)."""
    if not re.fullmatch(r"[a-zA-Z0-9]{18}", value):
        raise UsageError(f"{flag}: {value!r} is not a deploy id (18 letters and digits, such as 0Af5g00000ABCDEFGH)")


class MetadataClient:
    """deploy, checkDeployStatus, cancelDeploy, deployRecentValidation, and the retrieve of a package by name,
    on one authenticated connection."""

    def __init__(self, connection: Connection, client_name: str = "apexgen"):
        self.connection = connection
        self.client_name = client_name

    @property
    def endpoint(self) -> str:
        return f"{self.connection.instance_url}/services/Soap/m/{self.connection.api_version}"

    def _envelope(self, operation: str, children: list[tuple[str, object]]) -> bytes:
        from lxml import etree

        nsmap = {"soapenv": SOAP_ENV, "met": MD}
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=nsmap)
        header = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
        options = etree.SubElement(header, _q("CallOptions"))
        etree.SubElement(options, _q("client")).text = self.client_name
        session = etree.SubElement(header, _q("SessionHeader"))
        etree.SubElement(session, _q("sessionId")).text = self.connection.session_id
        body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
        call = etree.SubElement(body, _q(operation))
        _append(call, children)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

    def _call(self, operation: str, children: list[tuple[str, object]], *, idempotent: bool) -> etree._Element:
        """POST one operation; on INVALID_SESSION_ID re-authenticate once (when the credentials allow) and retry."""
        import requests

        for attempt in (1, 2):
            body = self._envelope(operation, children)
            http = self.connection.polling_http if idempotent else self.connection.once_http
            started = time.monotonic()
            try:
                response = http.post(
                    self.endpoint,
                    data=body,
                    headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
                    timeout=self.connection.timeout,
                )
            except requests.RequestException as exc:
                reason = _describe_network_error(exc)
                if idempotent:
                    raise TransientError(f"{operation}: {reason}") from None
                raise RequestNotConfirmed(
                    f"{operation}: {reason}; the request was not re-sent, so it may or may not have reached the org"
                ) from None
            self.connection.log(
                f"POST {self.endpoint} {operation} -> {response.status_code} ({time.monotonic() - started:.2f} s)"
            )
            try:
                result = _parse_response(operation, response.status_code, response.content)
            except TransientError as exc:
                if idempotent:
                    raise
                raise RequestNotConfirmed(f"{exc}; the request was not re-sent") from None
            except SessionExpired:
                if attempt == 1 and self.connection.can_reauthenticate:
                    self.connection.reauthenticate()
                    continue
                raise
            return result
        raise AssertionError("unreachable: the second attempt returns or raises")

    def deploy(self, zip_bytes: bytes, options: DeployOptions) -> str:
        if options.test_level not in TEST_LEVELS:
            raise UsageError(f"--test-level: {options.test_level!r} is not one of {', '.join(TEST_LEVELS)}")
        deploy_options: list[tuple[str, object]] = [
            ("allowMissingFiles", False),
            ("autoUpdatePackage", False),
            ("checkOnly", options.check_only),
            ("ignoreWarnings", options.ignore_warnings),
            ("performRetrieve", False),
            ("purgeOnDelete", False),
            ("rollbackOnError", options.rollback_on_error),
            *[("runTests", name) for name in (options.run_tests if options.test_level == "RunSpecifiedTests" else [])],
            ("singlePackage", True),
            ("testLevel", options.test_level),
        ]
        zipped = base64.b64encode(zip_bytes).decode("ascii")
        result = self._call("deploy", [("ZipFile", zipped), ("DeployOptions", deploy_options)], idempotent=False)
        return field_text(result, "id") or ""

    def check_deploy_status(self, deploy_id: str, include_details: bool = True) -> DeployResult:
        result = self._call(
            "checkDeployStatus", [("asyncProcessId", deploy_id), ("includeDetails", include_details)], idempotent=True
        )
        return parse_deploy_result(result)

    def cancel_deploy(self, deploy_id: str) -> bool:
        """Ask the org to cancel; True when it was canceled at once (still queued)."""
        result = self._call("cancelDeploy", [("String", deploy_id)], idempotent=False)
        return field_bool(result, "done")

    def deploy_recent_validation(self, validation_id: str) -> str:
        result = self._call("deployRecentValidation", [("validationId", validation_id)], idempotent=False)
        return (result.text or "").strip()

    def retrieve_package(self, package_name: str) -> str:
        """Start retrieving the org's package ``package_name`` (RetrieveRequest.packageNames); the async id.
        A retrieve changes nothing in the org, so a lost answer may be asked for again."""
        request: list[tuple[str, object]] = [
            ("apiVersion", self.connection.api_version),
            ("packageNames", package_name),
            ("singlePackage", True),
        ]
        return field_text(self._call("retrieve", [("retrieveRequest", request)], idempotent=True), "id") or ""

    def check_retrieve_status(self, retrieve_id: str) -> RetrievedPackage:
        result = self._call(
            "checkRetrieveStatus", [("asyncProcessId", retrieve_id), ("includeZip", True)], idempotent=True
        )
        problems = [m.findtext(_q("problem")) or "" for m in result.findall(_q("messages"))]
        zipped = field_text(result, "zipFile") or ""
        return RetrievedPackage(
            field_bool(result, "done"), field_text(result, "status") or "", base64.b64decode(zipped), problems
        )


@dataclass
class RetrievedPackage:
    done: bool
    status: str  # Pending, InProgress, Succeeded, Failed
    zip_bytes: bytes
    problems: list[str]

    def member_count(self) -> int:
        """The components the package.xml files of the zip list (the zip keeps one folder per package)."""
        import io
        import zipfile

        from lxml import etree

        archive = zipfile.ZipFile(io.BytesIO(self.zip_bytes))
        return sum(
            len(etree.fromstring(archive.read(name)).findall(f"{_q('types')}/{_q('members')}"))
            for name in archive.namelist()
            if name.rsplit("/", 1)[-1] == "package.xml"
        )


def _append(parent: etree._Element, children: list[tuple[str, object]]) -> None:
    from lxml import etree

    for name, value in children:
        child = etree.SubElement(parent, _q(name))
        if isinstance(value, list):
            _append(child, value)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        else:
            child.text = str(value)


def _describe_network_error(exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.Timeout):
        return "the org did not answer in time"
    if isinstance(exc, requests.exceptions.RetryError):
        return "the org kept answering with server errors (5xx)"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake with the org failed (certificate not trusted?)"
    return "the connection to the org failed or was dropped"


def _parse_response(operation: str, status: int, content: bytes) -> etree._Element:
    from lxml import etree

    try:
        document = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        document = None
    fault = document.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault") if document is not None else None
    if fault is not None:
        code = (fault.findtext("faultcode") or "").split(":")[-1]
        message = (fault.findtext("faultstring") or "").removeprefix(f"{code}: ")
        if code == "INVALID_SESSION_ID":
            raise SessionExpired(operation, code, message)
        if code == "INVALID_ID_FIELD":
            raise DeployNotFound(operation, code, message)
        if code in TRANSIENT_FAULTS:
            raise TransientError(f"{operation}: {code}: {message}")
        raise MetadataApiError(operation, code, message)
    if status >= 500 or document is None:
        raise TransientError(f"{operation}: the org answered HTTP {status} without a SOAP result")
    if status >= 300:
        raise MetadataApiError(operation, f"HTTP {status}", "unexpected answer from the Metadata API")
    result = document.find(f"{{{SOAP_ENV}}}Body/{_q(operation + 'Response')}/{_q('result')}")
    if result is None:
        raise TransientError(f"{operation}: the answer holds no result element")
    return result
