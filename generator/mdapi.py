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

from generator.errors import ApexgenError, ExitCode, UsageError

if TYPE_CHECKING:
    from lxml import etree

    from generator.connect import Connection

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MD = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
TEST_LEVELS = ("NoTestRun", "RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg")
FINAL_STATUSES = ("Succeeded", "SucceededPartial", "Failed", "Canceled")
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


class TransientError(ApexgenError):
    """A status call failed in a way that may pass: connection reset, timeout, 5xx. The caller polls again."""

    exit_code = ExitCode.CONNECTION


class RequestNotConfirmed(ApexgenError):
    """A call that starts work in the org got no answer; it is not re-sent, so it may or may not have started."""

    exit_code = ExitCode.CONNECTION


@dataclass
class ComponentMessage:
    component_type: str
    full_name: str
    file_name: str
    problem: str | None
    problem_type: str | None
    line: int | None
    column: int | None
    success: bool
    created: bool
    changed: bool
    deleted: bool


@dataclass
class TestOutcome:
    class_name: str
    method_name: str
    namespace: str | None
    time_ms: float
    passed: bool
    message: str | None = None
    stack_trace: str | None = None


@dataclass
class ClassCoverage:
    name: str
    type: str  # Class | Trigger
    namespace: str | None
    num_locations: int
    num_not_covered: int
    uncovered_lines: list[int]
    covered_lines: list[int] | None = None  # only the Tooling API says which lines ran

    @property
    def percent(self) -> float:
        if not self.num_locations:
            return 100.0
        return 100.0 * (self.num_locations - self.num_not_covered) / self.num_locations


@dataclass
class TestRunResult:
    tests: list[TestOutcome] = field(default_factory=list)
    coverage: list[ClassCoverage] = field(default_factory=list)
    coverage_warnings: list[str] = field(default_factory=list)
    total_time_ms: float = 0.0

    @property
    def failures(self) -> list[TestOutcome]:
        return [t for t in self.tests if not t.passed]


@dataclass
class DeployResult:
    id: str
    status: str
    done: bool
    success: bool
    check_only: bool
    state_detail: str | None
    error_message: str | None
    error_status_code: str | None
    components_total: int
    components_deployed: int
    component_errors: int
    tests_total: int
    tests_completed: int
    test_errors: int
    run_tests_enabled: bool
    canceled_by_name: str | None = None
    created_date: str | None = None
    completed_date: str | None = None
    component_failures: list[ComponentMessage] = field(default_factory=list)
    component_successes: list[ComponentMessage] = field(default_factory=list)
    test_result: TestRunResult | None = None

    @property
    def finished(self) -> bool:
        return self.done or self.status in FINAL_STATUSES


@dataclass
class DeployOptions:
    check_only: bool = False
    test_level: str = "RunSpecifiedTests"
    run_tests: list[str] = field(default_factory=list)
    ignore_warnings: bool = False
    rollback_on_error: bool = True


def _q(name: str) -> str:
    return f"{{{MD}}}{name}"


def _text(element: "etree._Element", name: str) -> str | None:
    child = element.find(_q(name))
    if child is None or child.get(f"{{{XSI}}}nil") == "true":
        return None
    return child.text or ""


def _int(element: "etree._Element", name: str) -> int:
    value = _text(element, name)
    return int(value) if value else 0


def _optional_int(element: "etree._Element", name: str) -> int | None:
    value = _text(element, name)
    return int(value) if value else None


def _float(element: "etree._Element", name: str) -> float:
    value = _text(element, name)
    return float(value) if value else 0.0


def _bool(element: "etree._Element", name: str) -> bool:
    return (_text(element, name) or "").strip().lower() == "true"


def parse_component(element: "etree._Element") -> ComponentMessage:
    return ComponentMessage(
        component_type=_text(element, "componentType") or "",
        full_name=_text(element, "fullName") or "",
        file_name=_text(element, "fileName") or "",
        problem=_text(element, "problem"),
        problem_type=_text(element, "problemType"),
        line=_optional_int(element, "lineNumber"),
        column=_optional_int(element, "columnNumber"),
        success=_bool(element, "success"),
        created=_bool(element, "created"),
        changed=_bool(element, "changed"),
        deleted=_bool(element, "deleted"),
    )


def parse_run_test_result(element: "etree._Element") -> TestRunResult:
    tests = [
        TestOutcome(
            class_name=_text(e, "name") or "",
            method_name=_text(e, "methodName") or "",
            namespace=_text(e, "namespace") or None,
            time_ms=_float(e, "time"),
            passed=False,
            message=_text(e, "message"),
            stack_trace=_text(e, "stackTrace"),
        )
        for e in element.findall(_q("failures"))
    ]
    tests += [
        TestOutcome(
            class_name=_text(e, "name") or "",
            method_name=_text(e, "methodName") or "",
            namespace=_text(e, "namespace") or None,
            time_ms=_float(e, "time"),
            passed=True,
        )
        for e in element.findall(_q("successes"))
    ]
    coverage = [
        ClassCoverage(
            name=_text(e, "name") or "",
            type=_text(e, "type") or "Class",
            namespace=_text(e, "namespace") or None,
            num_locations=_int(e, "numLocations"),
            num_not_covered=_int(e, "numLocationsNotCovered"),
            uncovered_lines=sorted(_int(loc, "line") for loc in e.findall(_q("locationsNotCovered"))),
        )
        for e in element.findall(_q("codeCoverage"))
    ]
    warnings = [_text(e, "message") or "" for e in element.findall(_q("codeCoverageWarnings"))]
    return TestRunResult(tests, coverage, warnings, _float(element, "totalTime"))


def parse_deploy_result(result: "etree._Element") -> DeployResult:
    details = result.find(_q("details"))
    failures, successes, test_result = [], [], None
    if details is not None:
        failures = [parse_component(e) for e in details.findall(_q("componentFailures"))]
        successes = [parse_component(e) for e in details.findall(_q("componentSuccesses"))]
        run_tests = details.find(_q("runTestResult"))
        if run_tests is not None:
            test_result = parse_run_test_result(run_tests)
    return DeployResult(
        id=_text(result, "id") or "",
        status=_text(result, "status") or "",
        done=_bool(result, "done"),
        success=_bool(result, "success"),
        check_only=_bool(result, "checkOnly"),
        state_detail=_text(result, "stateDetail"),
        error_message=_text(result, "errorMessage"),
        error_status_code=_text(result, "errorStatusCode"),
        components_total=_int(result, "numberComponentsTotal"),
        components_deployed=_int(result, "numberComponentsDeployed"),
        component_errors=_int(result, "numberComponentErrors"),
        tests_total=_int(result, "numberTestsTotal"),
        tests_completed=_int(result, "numberTestsCompleted"),
        test_errors=_int(result, "numberTestErrors"),
        run_tests_enabled=_bool(result, "runTestsEnabled"),
        canceled_by_name=_text(result, "canceledByName"),
        created_date=_text(result, "createdDate"),
        completed_date=_text(result, "completedDate"),
        component_failures=failures,
        component_successes=successes,
        test_result=test_result,
    )


def check_id(flag: str, value: str) -> None:
    """Refuse what is not a deploy or validation id as the Metadata API takes it (the WSDL's ID: 18 letters and digits)."""
    if not re.fullmatch(r"[a-zA-Z0-9]{18}", value):
        raise UsageError(f"{flag}: {value!r} is not a deploy id (18 letters and digits, such as 0Af5g00000ABCDEFGH)")


class MetadataClient:
    """deploy, checkDeployStatus, cancelDeploy and deployRecentValidation on one authenticated connection."""

    def __init__(self, connection: "Connection", client_name: str = "apexgen"):
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

    def _call(self, operation: str, children: list[tuple[str, object]], *, idempotent: bool) -> "etree._Element":
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
            self.connection.log(f"POST {self.endpoint} {operation} -> {response.status_code} "
                                f"({time.monotonic() - started:.2f} s)")
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
        return _text(result, "id") or ""

    def check_deploy_status(self, deploy_id: str, include_details: bool = True) -> DeployResult:
        result = self._call(
            "checkDeployStatus", [("asyncProcessId", deploy_id), ("includeDetails", include_details)], idempotent=True
        )
        return parse_deploy_result(result)

    def cancel_deploy(self, deploy_id: str) -> bool:
        """Ask the org to cancel; True when it was canceled at once (still queued)."""
        result = self._call("cancelDeploy", [("String", deploy_id)], idempotent=False)
        return _bool(result, "done")

    def deploy_recent_validation(self, validation_id: str) -> str:
        result = self._call("deployRecentValidation", [("validationId", validation_id)], idempotent=False)
        return (result.text or "").strip()


def _append(parent: "etree._Element", children: list[tuple[str, object]]) -> None:
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


def _parse_response(operation: str, status: int, content: bytes) -> "etree._Element":
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
