"""A wire-level fake Salesforce org on loopback HTTPS, for deploy and test-run tests.

It speaks what apexgen sends: the partner SOAP login, the OAuth token endpoint (JWT bearer, client
credentials), the Metadata API SOAP operations deploy / checkDeployStatus / cancelDeploy /
deployRecentValidation, the Tooling REST calls of an asynchronous Apex test run, and the packaging calls
(Package2, Package2VersionCreateRequest, Package2Version promotion, PackageUploadRequest). Every SOAP body it
receives and every one it returns is validated against the XSD inside simple-salesforce's metadata.wsdl;
every deploy zip is checked against its package.xml (each listed member has its files, each file belongs to
a listed member). Violations land in ``org.protocol_errors`` / ``org.zip_problems`` for tests to assert on.
Every VersionInfo zip of a package version request is checked the same way (package.zip against its package.xml,
no <fullName>, the descriptor's keys); its problems end the request as Error and land in ``org.package_problems``.

The outcome of a deploy is set by ``org.scenario`` (see Scenario); time runs on ``org.clock`` (the real clock,
or a tests.fakes.clock.VirtualClock), so a deploy is Pending, then InProgress with components and tests
counting up, then final after ``duration`` seconds. Slow answers (``slow_seconds``) always take real time:
they are there to run out the client's real socket timeout.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import io
import itertools
import json
import re
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from tests.fakes.devhub import ancestry_refusals, definition_problems, select_rows
from tests.fakes.https_server import RunningServer, serve_https

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MD = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PARTNER = "urn:partner.soap.sforce.com"
WHEN = "2026-01-05T10:00:00.000Z"

COMPILE_ERROR = ("Variable does not exist: totl", 12, 16)
ASSERT_MESSAGE = "System.AssertException: Assertion Failed: Expected: hi, Actual: hello"
LOW_COVERAGE_WARNING = (
    "Average test coverage across all Apex Classes and Triggers is 60%, at least 75% test coverage is required."
)


@functools.lru_cache(maxsize=8)
def metadata_schema(*root_types: str) -> etree.XMLSchema:
    """The XSD inside the Metadata API WSDL that simple-salesforce ships (API v63.0); ``root_types`` become global
    elements, so a metadata file whose root is one of them (``<EinsteinGptSettings>``) can be validated."""
    import simple_salesforce

    wsdl = etree.parse(str(Path(simple_salesforce.__file__).parent / "metadata.wsdl"))
    xsd = "http://www.w3.org/2001/XMLSchema"
    embedded = wsdl.find(f".//{{{xsd}}}schema")
    # The WSDL declares the tns prefix on <definitions>; a standalone schema needs it on its own root.
    schema = etree.Element(f"{{{xsd}}}schema", nsmap={"xsd": xsd, "tns": MD}, attrib=dict(embedded.attrib))
    schema.extend(copy.deepcopy(child) for child in embedded)
    for name in root_types:
        etree.SubElement(schema, f"{{{xsd}}}element", name=name, type=f"tns:{name}")
    return etree.XMLSchema(schema)


@dataclass
class Scenario:
    """What the org does with the next deploys and status calls.

    outcome: success | component_failure | test_failure | low_coverage | failing (all three at once) | canceled
    status_faults: status call number (1-based, counted over the org's life) -> fault:
        "500" (HTML error page), "503", "drop" (close the connection, no answer), "slow" (answer after
        slow_seconds), "expire" (the session expires: INVALID_SESSION_ID from then on until a new login)
    deploy_fault: "drop" closes the connection after the deploy request was accepted, without answering.
    """

    outcome: str = "success"
    pending: float = 0.1
    duration: float = 0.5
    status_faults: dict[int, str] = field(default_factory=dict)
    deploy_fault: str | None = None
    slow_seconds: float = 2.0


@dataclass
class Member:
    type: str
    name: str


@dataclass
class FakeDeploy:
    id: str
    created: float
    check_only: bool
    test_level: str
    members: list[Member]
    test_methods: list[tuple[str, str]]
    covered_classes: list[str]
    outcome: str
    pending: float
    duration: float
    zip_problems: list[str]
    canceled_at: float | None = None

    @property
    def finishes_at(self) -> float:
        return self.created + self.duration


@dataclass
class FakeTestRun:
    id: str
    created: float
    test_methods: list[tuple[str, str]]
    covered_classes: list[str]
    outcome: str
    duration: float


@dataclass
class FakeVersionRequest:
    id: str
    created: float
    package_id: str
    outcome: str
    pending: float
    duration: float
    calculate_coverage: bool
    skip_validation: bool
    install_key: str | None
    version: tuple[int, int, int]
    test_methods: list[tuple[str, str]]
    covered_classes: list[str]
    problems: list[str]
    descriptor: dict = field(default_factory=dict)
    version_info: bytes = b""
    branch: str | None = None
    tag: str | None = None
    language: str | None = None
    version_id: str | None = None  # the Package2Version made when the request succeeds


@dataclass
class FakeUpload:
    id: str
    created: float
    package_id: str
    version_name: str
    release: bool
    version: tuple[int, int]
    password: str | None
    outcome: str
    pending: float
    duration: float
    version_id: str | None = None


def _ids(prefix: str) -> Iterator[str]:
    for number in itertools.count(1):
        yield f"{prefix}{number:012d}AAA"


class FakeOrg:
    """State shared by the request handler threads; tests read and set it."""

    def __init__(self, clock: object = time) -> None:
        self.lock = threading.RLock()
        self.clock: Any = clock  # monotonic() and time(), as the time module has them
        self.scenario = Scenario()
        self.username = "deployer@example.com"
        self.password = "pw-Secret-1!"
        self.security_token = "TOKENsecret99"
        self.client_id = "3MVG9fakeConsumerKey"
        self.client_secret = "client-Secret-42"
        self.jwt_public_key: bytes | None = None
        self.access_token = "00DFAKE!initial-access-token-secret"
        self.sessions = {self.access_token}
        self.issued_sessions = [self.access_token]  # every session id ever valid, for the secrets test
        self._session_ids = _ids("00DFAKE!session-")
        self._deploy_ids = _ids("0Af")
        self._run_ids = _ids("707")
        self._package_ids = _ids("0Ho")
        self._version_request_ids = _ids("08c")
        self._package_version_ids = _ids("05i")
        self._subscriber_version_ids = _ids("04t")
        self._upload_ids = _ids("0HD")
        # Records per page of a query answer: the real org's is 2,000 (at most); tests set it small so that
        # every reader must follow nextRecordsUrl. Pages not yet read, by cursor id.
        self.query_page_size = 2000
        self.query_cursors: dict[str, list[dict]] = {}
        self._cursor_ids = _ids("01g")
        self.packages: dict[str, dict] = {}  # Package2 rows by 0Ho id
        self.version_requests: dict[str, FakeVersionRequest] = {}
        self.package_versions: dict[str, dict] = {}  # Package2Version rows by 05i id
        self.metadata_packages: dict[str, dict] = {}  # 1GP packages of a packaging org by 033 id
        self.uploads: dict[str, FakeUpload] = {}
        self.retrieves: dict[str, list[str]] = {}  # retrieve id -> the package names it asked for
        self.metadata_package_versions: dict[str, dict] = {}  # MetadataPackageVersion rows by 04t id
        self.package_problems: list[str] = []
        self.deploys: dict[str, FakeDeploy] = {}
        self.test_runs: dict[str, FakeTestRun] = {}
        self.org_classes: dict[str, str] = {}  # Apex classes the org has: name -> source
        # What the org provides besides what was deployed to it, for the questions a deploy asks before it sends
        # anything: sObjects (EntityDefinition), installed packages' Apex classes as (namespace or None, name),
        # installed packages' namespaces, the platform's Apex namespaces and their classes (completions).
        self.org_sobjects: set[str] = {"Account", "Contact", "Case", "Opportunity"}
        self.package_classes: set[tuple[str | None, str]] = set()
        self.installed_namespaces: set[str] = set()
        self.apex_platform: dict[str, list[str]] = {
            "System": ["String", "Database", "Quiddity"],
            "DataWeave": ["Script"],
        }
        self.calls: list[tuple[float, str]] = []  # (time, operation)
        self.status_calls = 0
        self.protocol_errors: list[str] = []
        self.url = ""

    def call_count(self, operation: str) -> int:
        return sum(1 for _, name in self.calls if name == operation)

    def new_session(self) -> str:
        session = next(self._session_ids)
        self.sessions.add(session)
        self.issued_sessions.append(session)
        return session


# ---------------------------------------------------------------------------------------------- zip checks

ONE_FILE_TYPES = {
    "ApexClass": ("classes", "cls", True),
    "ApexTrigger": ("triggers", "trigger", True),
    "ApexPage": ("pages", "page", True),
    "ApexComponent": ("components", "component", True),
    "StaticResource": ("staticresources", "resource", True),
    "Flow": ("flows", "flow", False),
    "PermissionSet": ("permissionsets", "permissionset", False),
    "CustomMetadata": ("customMetadata", "md", False),
    "CustomLabels": ("labels", "labels", False),
    "CustomObject": ("objects", "object", False),
    "Settings": ("settings", "settings", False),
}
BUNDLE_FOLDERS = {"LightningComponentBundle": "lwc", "AuraDefinitionBundle": "aura"}
# Children deployed inside their object's file, by the element that holds them there.
OBJECT_CHILDREN = {"CustomField": "fields", "ListView": "listViews", "ValidationRule": "validationRules"}


def check_zip(archive: zipfile.ZipFile) -> tuple[list[Member], list[str]]:
    """The members package.xml lists, and every mismatch between package.xml and the files in the zip."""
    names = {n for n in archive.namelist() if not n.endswith("/")}
    if "package.xml" not in names:
        return [], ["No package.xml found"]
    package = etree.fromstring(archive.read("package.xml"))
    members = [
        Member(t.findtext(f"{{{MD}}}name"), m.text)
        for t in package.findall(f"{{{MD}}}types")
        for m in t.findall(f"{{{MD}}}members")
    ]
    problems = []
    claimed = {"package.xml"}
    labels_file = "labels/CustomLabels.labels"
    for member in members:
        if member.type in ONE_FILE_TYPES:
            folder, suffix, content = ONE_FILE_TYPES[member.type]
            expected = [f"{folder}/{member.name}.{suffix}"] + (
                [f"{folder}/{member.name}.{suffix}-meta.xml"] if content else []
            )
        elif member.type in BUNDLE_FOLDERS:
            prefix = f"{BUNDLE_FOLDERS[member.type]}/{member.name}/"
            in_bundle = [n for n in names if n.startswith(prefix)]
            claimed.update(in_bundle)
            meta = f"{prefix}{member.name}.js-meta.xml" if member.type == "LightningComponentBundle" else None
            expected = [meta] if meta else ([] if in_bundle else [prefix])
        elif member.type in OBJECT_CHILDREN:
            parent, _, child = member.name.partition(".")
            object_file = f"objects/{parent}.object"
            expected = [object_file]
            if object_file in names:
                tag = OBJECT_CHILDREN[member.type]
                found = etree.fromstring(archive.read(object_file)).findall(f"{{{MD}}}{tag}/{{{MD}}}fullName")
                if child not in {f.text for f in found}:
                    problems.append(f"{member.type} {member.name} is in package.xml but not in {object_file}")
        elif member.type == "CustomLabel":
            expected = [labels_file]
            if labels_file in names:
                labels = etree.fromstring(archive.read(labels_file)).findall(f"{{{MD}}}labels/{{{MD}}}fullName")
                if member.name not in {label.text for label in labels}:
                    problems.append(f"CustomLabel {member.name} is in package.xml but not in {labels_file}")
        else:
            problems.append(f"package.xml lists an unknown type {member.type}")
            continue
        for path in expected:
            claimed.add(path)
            if path not in names:
                problems.append(
                    f"An object '{member.name}' of type {member.type} was named in package.xml, "
                    f"but was not found in zipped directory ({path})"
                )
    for unclaimed in sorted(names - claimed):
        problems.append(f"{unclaimed}: in the zip but no package.xml member names it")
    return members, problems


IS_TEST_CLASS = re.compile(r"@istest\b[^{]*?\bclass\s+(\w+)", re.IGNORECASE)
TEST_METHOD = re.compile(
    r"@istest\b\s*(?:\([^)]*\))?\s*(?:(?:public|private|global|static)\s+)*void\s+(\w+)", re.IGNORECASE
)


def classes_in_zip(archive: zipfile.ZipFile) -> dict[str, str]:
    return {
        name[len("classes/") : -len(".cls")]: archive.read(name).decode("utf-8", "replace")
        for name in archive.namelist()
        if name.startswith("classes/") and name.endswith(".cls")
    }


def split_tests(classes: dict[str, str], level: str, specified: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(test methods that run, non-test classes whose coverage is reported)."""
    test_classes = {name for name, source in classes.items() if IS_TEST_CLASS.search(source)}
    if level == "NoTestRun":
        chosen = []
    elif level == "RunSpecifiedTests":
        chosen = [name for name in specified if name in classes]
    else:
        chosen = sorted(test_classes)
    methods = [(name, m) for name in chosen for m in TEST_METHOD.findall(classes[name]) or ["runs"]]
    covered = sorted(set(classes) - test_classes) if methods else []
    return methods, covered


# ---------------------------------------------------------------------------------------------- XML building


def _element(parent: etree._Element, name: str, value: object = None, nil: bool = False) -> etree._Element:
    child = etree.SubElement(parent, f"{{{MD}}}{name}")
    if nil:
        child.set(f"{{{XSI}}}nil", "true")
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)
    return child


def _message(
    parent: etree._Element,
    tag: str,
    *,
    type_: str,
    name: str,
    file: str,
    success: bool,
    problem: tuple[str, int | None, int | None] | None = None,
) -> None:
    message = _element(parent, tag)
    _element(message, "changed", success)
    if problem and problem[2] is not None:
        _element(message, "columnNumber", problem[2])
    _element(message, "componentType", type_)
    _element(message, "created", success)
    _element(message, "createdDate", WHEN)
    _element(message, "deleted", False)
    _element(message, "fileName", file)
    _element(message, "fullName", name)
    if problem and problem[1] is not None:
        _element(message, "lineNumber", problem[1])
    if problem:
        _element(message, "problem", problem[0])
        _element(message, "problemType", "Error")
    _element(message, "success", success)


def _file_of(member: Member) -> str:
    if member.type in ONE_FILE_TYPES:
        folder, suffix, _ = ONE_FILE_TYPES[member.type]
        return f"{folder}/{member.name}.{suffix}"
    if member.type in BUNDLE_FOLDERS:
        return f"{BUNDLE_FOLDERS[member.type]}/{member.name}"
    return "labels/CustomLabels.labels"


def coverage_lines(outcome: str) -> tuple[int, list[int]]:
    """(executable lines, uncovered lines) of each covered class: 60% when coverage is the problem, else 90%."""
    return (10, [7, 8, 9, 10]) if outcome in ("low_coverage", "failing") else (10, [9])


def failing_method(methods: list[tuple[str, str]], outcome: str) -> tuple[str, str] | None:
    return methods[0] if methods and outcome in ("test_failure", "failing") else None


def deploy_result_xml(deploy: FakeDeploy, now: float) -> etree._Element:
    elapsed = now - deploy.created
    finished = elapsed >= deploy.duration or deploy.canceled_at is not None
    compile_failure = deploy.outcome in ("component_failure", "failing") or bool(deploy.zip_problems)
    classes = sorted(m.name for m in deploy.members if m.type == "ApexClass")
    broken = deploy.covered_classes[0] if deploy.covered_classes else (classes[0] if classes else None)
    runs_tests = not deploy.zip_problems and deploy.outcome != "component_failure"
    methods = deploy.test_methods if runs_tests else []
    failing = failing_method(methods, deploy.outcome)

    if deploy.canceled_at is not None:
        status = "Canceling" if now - deploy.canceled_at < 0.2 else "Canceled"
    elif deploy.outcome == "canceled" and finished:
        status = "Canceled"
    elif elapsed < deploy.pending:
        status = "Pending"
    elif not finished:
        status = "InProgress"
    elif compile_failure or failing or deploy.outcome == "low_coverage":
        status = "Failed"
    else:
        status = "Succeeded"
    done = status in ("Succeeded", "Failed", "Canceled")
    total = len(deploy.members)
    progress = (
        0.0
        if status == "Pending"
        else min(1.0, max(0.0, (elapsed - deploy.pending) / max(deploy.duration - deploy.pending, 1e-9)))
    )
    deployed = total if done else int(total * min(1.0, progress * 2))
    tests_done = len(methods) if done else int(len(methods) * max(0.0, progress * 2 - 1))

    result = etree.Element(f"{{{MD}}}result")
    if status in ("Canceled", "Canceling") and (deploy.canceled_at is not None or deploy.outcome == "canceled"):
        _element(result, "canceledBy", "0052y000000XAvZ")
        _element(result, "canceledByName", "Admin User")
    _element(result, "checkOnly", deploy.check_only)
    if done:
        _element(result, "completedDate", WHEN)
    _element(result, "createdBy", "0052y000000XAvZ")
    _element(result, "createdByName", "Deploy User")
    _element(result, "createdDate", WHEN)
    details = _element(result, "details")
    errors = 0
    if done and status != "Canceled":
        if deploy.zip_problems:
            for problem in deploy.zip_problems:
                _message(
                    details,
                    "componentFailures",
                    type_="",
                    name="package.xml",
                    file="package.xml",
                    success=False,
                    problem=(problem, None, None),
                )
            errors = len(deploy.zip_problems)
        elif compile_failure and broken:
            _message(
                details,
                "componentFailures",
                type_="ApexClass",
                name=broken,
                file=f"classes/{broken}.cls",
                success=False,
                problem=COMPILE_ERROR,
            )
            errors = 1
        _message(details, "componentSuccesses", type_="", name="package.xml", file="package.xml", success=True)
        for member in deploy.members:
            if not (errors and member.name == broken and member.type == "ApexClass"):
                _message(
                    details,
                    "componentSuccesses",
                    type_=member.type,
                    name=member.name,
                    file=_file_of(member),
                    success=True,
                )
        if runs_tests or deploy.test_methods:
            _run_test_result(details, methods, deploy.covered_classes if methods else [], deploy.outcome)
    _element(result, "done", done)
    _element(result, "id", deploy.id)
    _element(result, "ignoreWarnings", False)
    _element(result, "lastModifiedDate", WHEN)
    _element(result, "numberComponentErrors", errors)
    _element(result, "numberComponentsDeployed", total - errors if done and status != "Canceled" else deployed)
    _element(result, "numberComponentsTotal", total)
    _element(result, "numberTestErrors", 1 if failing and done else 0)
    _element(result, "numberTestsCompleted", tests_done - (1 if failing and done else 0))
    _element(result, "numberTestsTotal", len(methods))
    _element(result, "rollbackOnError", True)
    _element(result, "runTestsEnabled", bool(deploy.test_methods))
    _element(result, "startDate", WHEN)
    if status == "InProgress":
        _element(result, "stateDetail", "Running Test: " if tests_done else "Deploying components")
    _element(result, "status", status)
    _element(result, "success", status == "Succeeded")
    return result


def _run_test_result(details: etree._Element, methods: list[tuple[str, str]], covered: list[str], outcome: str) -> None:
    run = _element(details, "runTestResult")
    locations, uncovered = coverage_lines(outcome)
    for name in covered:
        coverage = _element(run, "codeCoverage")
        _element(coverage, "id", "01p000000000001AAA")
        for line in uncovered:
            location = _element(coverage, "locationsNotCovered")
            _element(location, "column", 0)
            _element(location, "line", line)
            _element(location, "numExecutions", 0)
            _element(location, "time", "-1.0")
        _element(coverage, "name", name)
        _element(coverage, "namespace", nil=True)
        _element(coverage, "numLocations", locations)
        _element(coverage, "numLocationsNotCovered", len(uncovered))
        _element(coverage, "type", "Class")
    if covered and outcome in ("low_coverage", "failing"):
        warning = _element(run, "codeCoverageWarnings")
        _element(warning, "id", "01p000000000001AAA")
        _element(warning, "message", LOW_COVERAGE_WARNING)
        _element(warning, "name", nil=True)
        _element(warning, "namespace", "")
    failing = failing_method(methods, outcome)
    if failing:
        failure = _element(run, "failures")
        _element(failure, "id", "01p000000000002AAA")
        _element(failure, "message", ASSERT_MESSAGE)
        _element(failure, "methodName", failing[1])
        _element(failure, "name", failing[0])
        _element(failure, "namespace", nil=True)
        _element(failure, "packageName", failing[0])
        _element(failure, "stackTrace", f"Class.{failing[0]}.{failing[1]}: line 5, column 1")
        _element(failure, "time", "52.0")
        _element(failure, "type", "Class")
    _element(run, "numFailures", 1 if failing else 0)
    _element(run, "numTestsRun", len(methods))
    for class_name, method in methods:
        if (class_name, method) != failing:
            success = _element(run, "successes")
            _element(success, "id", "01p000000000002AAA")
            _element(success, "methodName", method)
            _element(success, "name", class_name)
            _element(success, "namespace", nil=True)
            _element(success, "time", "41.0")
    _element(run, "totalTime", f"{52.0 + 41.0 * max(len(methods) - 1, 0):.1f}")


# ---------------------------------------------------------------------------------------------- packaging

VERSION_STAGES = (
    "Initializing",
    "VerifyingFeaturesAndSettings",
    "VerifyingDependencies",
    "VerifyingMetadata",
    "FinalizingPackageVersion",
)
DESCRIPTOR_KEYS = {
    "id",
    "path",
    "versionName",
    "versionNumber",
    "versionDescription",
    "ancestorId",
    "dependencies",
    "postInstallScript",
    "uninstallScript",
    "postInstallUrl",
    "releaseNotesUrl",
    # from the definition file (copyDescriptorProperties) and the build user's access (resolveBuildUserPermissions);
    # sf never sends ancestorVersion, definitionFile, apexTestAccess or branch: it resolves or maps them first.
    "country",
    "edition",
    "language",
    "features",
    "orgPreferences",
    "snapshot",
    "release",
    "sourceOrg",
    "permissionSetNames",
    "permissionSetLicenseDeveloperNames",
    "packageMetadataPermissionSetNames",
    "packageMetadataPermissionSetLicenseNames",
}
PACKAGING_TABLES = (
    "Package2",
    "Package2Version",
    "Package2VersionCreateRequest",
    "Package2VersionCreateRequestError",
    "PackageUploadRequest",
    "MetadataPackage",
    "MetadataPackageVersion",
)
DESCRIPTOR_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)\.(NEXT|\d+)")


def _rest_error(code: str, message: str) -> list[dict]:
    return [{"errorCode": code, "message": message, "fields": []}]


def check_version_info(version_info: bytes, package_id: str) -> tuple[dict, dict[str, str], list[str]]:
    """(descriptor, classes of package.zip, problems) of a VersionInfo zip."""
    try:
        outer = zipfile.ZipFile(io.BytesIO(version_info))
    except zipfile.BadZipFile:
        return {}, {}, ["VersionInfo is not a zip file"]
    names = set(outer.namelist())
    problems = [
        f"VersionInfo holds {name}, which is not part of a package version"
        for name in sorted(
            names - {"package.zip", "package2-descriptor.json", "settings.zip", "scratch-org-definition.json"}
        )
    ]
    if "package.zip" not in names or "package2-descriptor.json" not in names:
        return {}, {}, problems + ["VersionInfo needs package.zip and package2-descriptor.json"]
    try:
        descriptor = json.loads(outer.read("package2-descriptor.json"))
    except ValueError:
        return {}, {}, problems + ["package2-descriptor.json is not JSON"]
    problems += [f"package2-descriptor.json: unknown key {key}" for key in sorted(set(descriptor) - DESCRIPTOR_KEYS)]
    if descriptor.get("id") != package_id:
        problems.append(f"package2-descriptor.json: id {descriptor.get('id')!r} is not the request's Package2Id")
    if not DESCRIPTOR_VERSION.fullmatch(str(descriptor.get("versionNumber", ""))):
        problems.append(
            f"package2-descriptor.json: versionNumber {descriptor.get('versionNumber')!r} is not M.m.p.NEXT"
        )
    if not isinstance(descriptor.get("versionName"), str) or not descriptor.get("versionName"):
        problems.append("package2-descriptor.json: versionName is missing")
    if not isinstance(descriptor.get("ancestorId", ""), str):
        problems.append("package2-descriptor.json: ancestorId is not a string")
    problems += definition_problems(outer, descriptor, metadata_schema, check_zip)
    inner = zipfile.ZipFile(io.BytesIO(outer.read("package.zip")))
    _, zip_problems = check_zip(inner)
    problems += zip_problems
    if (
        "package.xml" in inner.namelist()
        and etree.fromstring(inner.read("package.xml")).find(f"{{{MD}}}fullName") is not None
    ):
        problems.append("package.xml has a fullName: the zip is a first-generation package, not a 2GP version")
    return descriptor, classes_in_zip(inner), problems


def create_package2(org: FakeOrg, fields: dict) -> tuple[int, object]:
    if not fields.get("Name"):
        return 400, _rest_error("REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]")
    if fields.get("ContainerOptions") not in ("Managed", "Unlocked"):
        return 400, _rest_error(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"bad value for restricted picklist field: {fields.get('ContainerOptions')}",
        )
    if fields["ContainerOptions"] == "Managed" and not fields.get("NamespacePrefix"):
        return 400, _rest_error("FIELD_INTEGRITY_EXCEPTION", "A managed package requires a namespace.")
    with org.lock:
        package_id = next(org._package_ids)
        org.packages[package_id] = {
            "Id": package_id,
            "Name": fields["Name"],
            "ContainerOptions": fields["ContainerOptions"],
            "NamespacePrefix": fields.get("NamespacePrefix"),
            "Description": fields.get("Description"),
            "IsOrgDependent": False,
        }
    return 201, {"id": package_id, "success": True, "errors": []}


def create_version_request(org: FakeOrg, fields: dict) -> tuple[int, object]:
    package_id = fields.get("Package2Id")
    if package_id not in org.packages:
        return 400, _rest_error("INVALID_ID_FIELD", f"No package with id {package_id} in this Dev Hub")
    if fields.get("CalculateCodeCoverage") and fields.get("SkipValidation"):
        return 400, _rest_error(
            "FIELD_INTEGRITY_EXCEPTION", "You can't calculate code coverage when you skip validation."
        )
    version_info = base64.b64decode(fields.get("VersionInfo") or "")
    descriptor, classes, problems = check_version_info(version_info, package_id)
    numbers = DESCRIPTOR_VERSION.fullmatch(str(descriptor.get("versionNumber", "")))
    version = tuple(int(n) for n in numbers.groups()[:3]) if numbers else (0, 1, 0)
    methods, covered = split_tests(classes, "RunLocalTests", [])
    with org.lock:
        refusals = ancestry_refusals(org.packages[package_id], list(org.package_versions.values()), descriptor, version)
        request = FakeVersionRequest(
            id=next(org._version_request_ids),
            created=org.clock.monotonic(),
            package_id=package_id,
            outcome=org.scenario.outcome,
            pending=org.scenario.pending,
            duration=org.scenario.duration,
            calculate_coverage=bool(fields.get("CalculateCodeCoverage")),
            skip_validation=bool(fields.get("SkipValidation")),
            install_key=fields.get("InstallKey"),
            version=version,
            test_methods=methods,
            covered_classes=covered,
            problems=problems + refusals,
            descriptor=descriptor,
            version_info=version_info,
            branch=fields.get("Branch"),
            tag=fields.get("Tag"),
            language=fields.get("Language"),
        )
        org.version_requests[request.id] = request
        org.package_problems += problems
    return 201, {"id": request.id, "success": True, "errors": []}


def version_request_errors(request: FakeVersionRequest) -> list[str]:
    if request.problems:
        return request.problems
    if request.outcome in ("component_failure", "failing") and not request.skip_validation:
        broken = request.covered_classes[0] if request.covered_classes else "Unknown"
        tests = [name for name, _ in request.test_methods[:1]]
        messages = [
            f"{broken}: Variable does not exist: totl ({broken}: line {COMPILE_ERROR[1]}, column {COMPILE_ERROR[2]})"
        ]
        messages += [
            f"{name}: Dependent class is invalid and needs recompilation:\n Class {broken} : "
            f"Variable does not exist: totl"
            for name in tests
        ]
        return messages
    failing = failing_method(request.test_methods, request.outcome)
    if failing and request.calculate_coverage:
        return [f"ApexTestFailure: {failing[0]}.{failing[1]}: {ASSERT_MESSAGE}"]
    return []


def version_request_state(org: FakeOrg, request: FakeVersionRequest, now: float) -> tuple[str, list[str]]:
    """The request's status as of ``now``; the Package2Version appears when it succeeds."""
    elapsed = now - request.created
    if elapsed < request.pending:
        return "Queued", []
    if elapsed < request.duration:
        stage = int(len(VERSION_STAGES) * (elapsed - request.pending) / max(request.duration - request.pending, 1e-9))
        return VERSION_STAGES[min(stage, len(VERSION_STAGES) - 1)], []
    errors = version_request_errors(request)
    if errors:
        return "Error", errors
    with org.lock:
        if request.version_id is None:
            major, minor, patch = request.version
            build = 1 + sum(
                1
                for v in org.package_versions.values()
                if v["Package2Id"] == request.package_id
                and (v["MajorVersion"], v["MinorVersion"], v["PatchVersion"]) == request.version
                and v["Branch"] == request.branch
            )
            coverage = None
            if request.calculate_coverage:
                locations, uncovered = coverage_lines(request.outcome)
                coverage = {"apexCodeCoveragePercentage": round(100 * (locations - len(uncovered)) / locations, 2)}
            version_id = next(org._package_version_ids)
            org.package_versions[version_id] = {
                "Id": version_id,
                "SubscriberPackageVersionId": next(org._subscriber_version_ids),
                "Package2Id": request.package_id,
                "Package2": {"Name": org.packages[request.package_id]["Name"]},
                "MajorVersion": major,
                "MinorVersion": minor,
                "PatchVersion": patch,
                "BuildNumber": build,
                "CodeCoverage": coverage,
                "HasPassedCodeCoverageCheck": bool(coverage and coverage["apexCodeCoveragePercentage"] >= 75),
                "IsReleased": False,
                "IsDeprecated": False,
                "ValidationSkipped": request.skip_validation,
                "Branch": request.branch,
                "Tag": request.tag,
                "AncestorId": request.descriptor.get("ancestorId") or None,
            }
            request.version_id = version_id
    return "Success", []


def create_upload(org: FakeOrg, fields: dict) -> tuple[int, object]:
    package_id = fields.get("MetadataPackageId")
    if package_id not in org.metadata_packages:
        return 400, _rest_error("INVALID_ID_FIELD", f"No package with id {package_id} in this organization")
    if not fields.get("VersionName"):
        return 400, _rest_error("REQUIRED_FIELD_MISSING", "Required fields are missing: [VersionName]")
    with org.lock:
        upload = FakeUpload(
            id=next(org._upload_ids),
            created=org.clock.monotonic(),
            package_id=package_id,
            version_name=fields["VersionName"],
            release=bool(fields.get("IsReleaseVersion")),
            version=(int(fields.get("MajorVersion") or 1), int(fields.get("MinorVersion") or 0)),
            password=fields.get("Password"),
            outcome=org.scenario.outcome,
            pending=org.scenario.pending,
            duration=org.scenario.duration,
        )
        org.uploads[upload.id] = upload
    return 201, {"id": upload.id, "success": True, "errors": []}


def upload_state(org: FakeOrg, upload: FakeUpload, now: float) -> tuple[str, list[str]]:
    elapsed = now - upload.created
    if elapsed < upload.pending:
        return "QUEUED", []
    if elapsed < upload.duration:
        return "IN_PROGRESS", []
    if upload.outcome in ("test_failure", "failing", "low_coverage"):
        methods, _ = split_tests(org.org_classes, "RunLocalTests", [])
        failing = methods[0] if methods else ("FooServiceTest", "greetsByName")
        errors = [f"ApexTestFailure: {failing[0]}.{failing[1]}: {ASSERT_MESSAGE}"]
        if upload.outcome != "test_failure":
            errors.append(
                "Average test coverage across all Apex Classes and Triggers is 60%, at least 75% test "
                "coverage is required."
            )
        return "ERROR", errors
    with org.lock:
        if upload.version_id is None:
            major, minor = upload.version
            patch = sum(
                1
                for v in org.metadata_package_versions.values()
                if (v["MajorVersion"], v["MinorVersion"]) == (major, minor) and v["ReleaseState"] == "Released"
            )
            version_id = next(org._subscriber_version_ids)
            org.metadata_package_versions[version_id] = {
                "Id": version_id,
                "MetadataPackageId": upload.package_id,
                "Name": upload.version_name,
                "MajorVersion": major,
                "MinorVersion": minor,
                "PatchVersion": patch,
                "ReleaseState": "Released" if upload.release else "Beta",
                "BuildNumber": 1 + len(org.metadata_package_versions),
            }
            upload.version_id = version_id
    return "SUCCESS", []


def _select(table: str, record: dict, fields: list[str]) -> dict:
    """Only the selected fields, relationship fields one level deep, as the REST API shapes them."""
    out: dict = {"attributes": {"type": table}}
    for name in fields:
        head, _, rest = name.partition(".")
        if head not in record:
            raise KeyError(name)
        if not rest:
            out[head] = record[head]
        elif record[head] is None:
            out[head] = None
        else:
            out.setdefault(head, {"attributes": {"type": head}})[rest] = record[head].get(rest)
    return out


PROVIDED_TABLES = ("EntityDefinition", "ApexClass", "InstalledSubscriberPackage")
# The only shapes of these queries the fake answers (as a deploy asks them): any other is refused.
_PROVIDED_SOQL = {
    "EntityDefinition": r"SELECT QualifiedApiName FROM EntityDefinition WHERE QualifiedApiName IN \((.+)\)",
    "ApexClass": r"SELECT NamespacePrefix, Name FROM ApexClass WHERE Name IN \((.+)\)",
    "InstalledSubscriberPackage": r"SELECT SubscriberPackage\.NamespacePrefix FROM InstalledSubscriberPackage()",
}


def provided_query(org: FakeOrg, table: str, soql: str) -> tuple[int, object]:
    """What the org has of the names asked (compared without case, as SOQL compares text)."""
    shape = re.fullmatch(_PROVIDED_SOQL[table], soql)
    if shape is None:
        return 400, _rest_error("MALFORMED_QUERY", f"fake org cannot answer: {soql}")
    asked = {name.lower() for name in re.findall(r"'((?:[^'\\]|\\.)*)'", shape.group(1))}
    with org.lock:
        if table == "EntityDefinition":
            records = [{"QualifiedApiName": name} for name in sorted(org.org_sobjects) if name.lower() in asked]
        elif table == "ApexClass":
            classes = {(None, name) for name in org.org_classes} | org.package_classes
            records = [
                {"NamespacePrefix": namespace, "Name": name}
                for namespace, name in sorted(classes, key=str)
                if name.lower() in asked
            ]
        else:
            records = [{"SubscriberPackage": {"NamespacePrefix": ns}} for ns in sorted(org.installed_namespaces)]
    for record in records:
        record["attributes"] = {"type": table}
    return 200, {"totalSize": len(records), "done": True, "records": records}


def packaging_query(org: FakeOrg, table: str, soql: str) -> tuple[int, object]:
    now = org.clock.monotonic()
    select = re.match(r"\s*SELECT\s+(.*?)\s+FROM\s", soql, re.IGNORECASE | re.DOTALL)
    if select is None:
        return 400, _rest_error("MALFORMED_QUERY", f"fake org cannot answer: {soql}")
    fields = [f.strip() for f in select.group(1).split(",")]
    with org.lock:
        if table == "Package2VersionCreateRequest":
            records = []
            for request in org.version_requests.values():
                status, _ = version_request_state(org, request, now)
                records.append(
                    {
                        "Id": request.id,
                        "Status": status,
                        "Package2Id": request.package_id,
                        "Package2": {"Name": org.packages[request.package_id]["Name"]},
                        "Package2VersionId": request.version_id,
                        "Package2Version": org.package_versions.get(request.version_id or ""),
                        "CalculateCodeCoverage": request.calculate_coverage,
                        "SkipValidation": request.skip_validation,
                        "Branch": request.branch,
                        "Tag": request.tag,
                        "InstallKey": None,
                    }
                )
        elif table == "Package2VersionCreateRequestError":
            records = [
                {"ParentRequestId": request.id, "ParentRequest": {"Id": request.id}, "Message": message}
                for request in org.version_requests.values()
                for message in version_request_state(org, request, now)[1]
            ]
        elif table == "Package2Version":
            records = list(org.package_versions.values())
        elif table == "Package2":
            records = list(org.packages.values())
        elif table == "PackageUploadRequest":
            records = []
            for upload in org.uploads.values():
                status, errors = upload_state(org, upload, now)
                records.append(
                    {
                        "Id": upload.id,
                        "Status": status,
                        "MetadataPackageId": upload.package_id,
                        "MetadataPackageVersionId": upload.version_id,
                        "Errors": {"errors": [{"message": e} for e in errors]} if errors else None,
                    }
                )
        elif table == "MetadataPackage":
            records = list(org.metadata_packages.values())
        else:
            records = list(org.metadata_package_versions.values())
    matching = select_rows(records, soql)
    if isinstance(matching, str):
        return 400, _rest_error("MALFORMED_QUERY", matching)
    try:
        rows = [_select(table, r, fields) for r in matching]
    except KeyError as exc:
        return 400, _rest_error("INVALID_FIELD", f"No such column '{exc.args[0]}' on entity '{table}'")
    return 200, {"totalSize": len(rows), "done": True, "records": rows}


def promote(org: FakeOrg, version_id: str, fields: dict) -> tuple[int, object]:
    with org.lock:
        version = org.package_versions.get(version_id)
        if version is None:
            return 404, _rest_error("NOT_FOUND", "The requested resource does not exist")
        if set(fields) != {"IsReleased"}:
            return 400, _rest_error("INVALID_FIELD_FOR_INSERT_UPDATE", f"fields not updatable here: {sorted(fields)}")
        if fields["IsReleased"] is True and not version["HasPassedCodeCoverageCheck"]:
            coverage = version["CodeCoverage"]
            reason = (
                "code coverage was not calculated for this version (it was created without validation or "
                "without code coverage)"
                if coverage is None
                else f"its code coverage is {coverage['apexCodeCoveragePercentage']:g}%, below the required 75%"
            )
            return 400, _rest_error("FIELD_INTEGRITY_EXCEPTION", f"This package version can't be promoted: {reason}.")
        version["IsReleased"] = bool(fields["IsReleased"])
    return 204, None


# ---------------------------------------------------------------------------------------------- HTTP handler


class FakeOrgHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def org(self) -> FakeOrg:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
        pass

    # -- plumbing
    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()

    def _soap(self, status: int, body_child: etree._Element, validate: bool = True) -> None:
        if validate:
            self._validate(body_child, "response")
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, None: MD, "xsi": XSI})
        etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(body_child)
        self._send(status, etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"), "text/xml; charset=utf-8")

    def _fault(self, code: str, message: str) -> None:
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "sf": MD})
        fault = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
        etree.SubElement(fault, "faultcode").text = f"sf:{code}"
        etree.SubElement(fault, "faultstring").text = f"{code}: {message}"
        self._send(500, etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"), "text/xml; charset=utf-8")

    def _validate(self, element: etree._Element, direction: str) -> None:
        schema = metadata_schema()
        document = etree.ElementTree(copy.deepcopy(element))
        if not schema.validate(document):
            with self.org.lock:
                self.org.protocol_errors.append(
                    f"{direction} {etree.QName(element).localname}: {schema.error_log.last_error}"
                )

    def _status_fault(self) -> str | None:
        """Count a status call and play the scenario's fault for it; 'slow' and 'expire' act here."""
        org = self.org
        with org.lock:
            org.status_calls += 1
            fault = org.scenario.status_faults.get(org.status_calls)
            if fault == "expire":
                org.sessions.clear()
        if fault == "slow":
            time.sleep(org.scenario.slow_seconds)
        return fault

    def _answer_fault(self, fault: str) -> None:
        if fault == "drop":
            return self._drop()
        status, text = (500, "Internal Server Error") if fault == "500" else (503, "Service Unavailable")
        self._send(status, f"<html><body>{text}</body></html>".encode(), "text/html")

    def _json(self, status: int, value: object) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    # -- routing
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        body = self._body()
        if re.fullmatch(r"/services/Soap/u/[\d.]+(/.*)?", path):
            return self._soap_login(body)
        if path == "/services/oauth2/token":
            return self._token(body)
        if re.fullmatch(r"/services/Soap/m/[\d.]+(/.*)?", path):
            return self._metadata(body)
        if re.fullmatch(r"/services/data/v[\d.]+/tooling/runTestsAsynchronous/?", path):
            return self._run_tests(body)
        created = re.fullmatch(r"/services/data/v[\d.]+/tooling/sobjects/(\w+)/?", path)
        if created:
            return self._tooling_create(created.group(1), body)
        self._json(404, [{"errorCode": "NOT_FOUND", "message": f"no such resource {path}"}])

    def do_PATCH(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        body = self._body()
        updated = re.fullmatch(r"/services/data/v[\d.]+/tooling/sobjects/(\w+)/(\w+)/?", path)
        if updated:
            return self._tooling_update(updated.group(1), updated.group(2), body)
        self._json(404, [{"errorCode": "NOT_FOUND", "message": f"no such resource {path}"}])

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        if re.fullmatch(r"/services/data/v[\d.]+/tooling/query/?", parts.path):
            return self._tooling_query(parse_qs(parts.query).get("q", [""])[0])
        more = re.fullmatch(r"/services/data/v([\d.]+)/tooling/query/(01g[\w-]+)", parts.path)
        if more:
            return self._query_more(more.group(1), more.group(2))
        if re.fullmatch(r"/services/data/v[\d.]+/tooling/completions/?", parts.path):
            return self._completions(parse_qs(parts.query).get("type", [""])[0])
        self._json(404, [{"errorCode": "NOT_FOUND", "message": f"no such resource {parts.path}"}])

    # -- authentication
    def _soap_login(self, body: bytes) -> None:
        document = etree.fromstring(body)
        username = document.findtext(f".//{{{PARTNER}}}username")
        password = document.findtext(f".//{{{PARTNER}}}password")
        org = self.org
        with org.lock:
            org.calls.append((org.clock.time(), "login"))
            if username != org.username or password != org.password + org.security_token:
                envelope = (
                    f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
                    'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>'
                    "<faultcode>INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, "
                    "security token; or user locked out.</faultstring><detail><sf:LoginFault>"
                    "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, "
                    "password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail>"
                    "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
                )
                return self._send(500, envelope.encode(), "text/xml")
            session = org.new_session()
        response = (
            f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
            f'xmlns="{PARTNER}"><soapenv:Body><loginResponse><result>'
            f"<metadataServerUrl>{org.url}/services/Soap/m/63.0/00D000000000001</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
            f"<serverUrl>{org.url}/services/Soap/u/63.0/00D000000000001</serverUrl>"
            f"<sessionId>{session}</sessionId><userId>005000000000001AAA</userId>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        self._send(200, response.encode(), "text/xml")

    def _token(self, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        org = self.org
        grant = form.get("grant_type")
        ok = False
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer" and org.jwt_public_key:
            import jwt

            try:
                claims = jwt.decode(
                    form.get("assertion", ""), org.jwt_public_key, algorithms=["RS256"], options={"verify_aud": False}
                )
                ok = claims.get("iss") == org.client_id and claims.get("sub") == org.username
            except jwt.PyJWTError:
                ok = False
        elif grant == "client_credentials":
            expected = base64.b64encode(f"{org.client_id}:{org.client_secret}".encode()).decode()
            ok = self.headers.get("Authorization") == f"Basic {expected}"
        with org.lock:
            org.calls.append((org.clock.time(), f"token:{grant}"))
            if not ok:
                return self._json(400, {"error": "invalid_grant", "error_description": "authentication failure"})
            session = org.new_session()
        self._json(
            200,
            {
                "access_token": session,
                "instance_url": org.url,
                "token_type": "Bearer",
                "id": f"{org.url}/id/00D000000000001/005000000000001",
                "scope": "api",
            },
        )

    # -- Metadata API
    def _metadata(self, body: bytes) -> None:
        org = self.org
        try:
            envelope = etree.fromstring(body)
        except etree.XMLSyntaxError as exc:
            with org.lock:
                org.protocol_errors.append(f"request is not XML: {exc}")
            return self._fault("INVALID_XML", "request is not well-formed XML")
        header = envelope.find(f"{{{SOAP_ENV}}}Header")
        call = envelope.find(f"{{{SOAP_ENV}}}Body/*")
        if call is None or header is None:
            with org.lock:
                org.protocol_errors.append("request has no SOAP Header or Body call")
            return self._fault("INVALID_XML", "no call in the SOAP body")
        for child in [*header, call]:
            self._validate(child, "request")
        operation = etree.QName(call).localname
        session = header.findtext(f"{{{MD}}}SessionHeader/{{{MD}}}sessionId")
        with org.lock:
            org.calls.append((org.clock.time(), operation))
            fault = org.scenario.deploy_fault if operation == "deploy" else None
        if operation == "checkDeployStatus":
            fault = self._status_fault()
            if fault in ("500", "503", "drop"):
                return self._answer_fault(fault)
        with org.lock:
            session_valid = session in org.sessions
        if not session_valid:
            return self._fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
        if fault == "drop":  # the org takes the deploy, the answer never arrives
            self._create_deploy(call)
            return self._drop()
        handler = getattr(self, f"_md_{operation}", None)
        if handler is None:
            return self._fault("UNKNOWN_EXCEPTION", f"fake org does not implement {operation}")
        handler(call)

    def _md_deploy(self, call: etree._Element) -> None:
        deploy = self._create_deploy(call)
        response = etree.Element(f"{{{MD}}}deployResponse")
        result = _element(response, "result")
        _element(result, "done", False)
        _element(result, "id", deploy.id)
        _element(result, "state", "Queued")
        self._soap(200, response)

    def _create_deploy(self, call: etree._Element) -> FakeDeploy:
        org = self.org
        options = call.find(f"{{{MD}}}DeployOptions")
        text = lambda name: (options.findtext(f"{{{MD}}}{name}") or "").strip()  # noqa: E731
        archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(call.findtext(f"{{{MD}}}ZipFile") or "")))
        members, problems = check_zip(archive)
        classes = classes_in_zip(archive)
        package_name = etree.fromstring(archive.read("package.xml")).findtext(f"{{{MD}}}fullName")
        level = text("testLevel") or "NoTestRun"
        specified = [e.text or "" for e in options.findall(f"{{{MD}}}runTests")]
        methods, covered = split_tests(classes, level, specified)
        with org.lock:
            deploy = FakeDeploy(
                id=next(org._deploy_ids),
                created=org.clock.monotonic(),
                check_only=text("checkOnly") == "true",
                test_level=level,
                members=members,
                test_methods=methods,
                covered_classes=covered,
                outcome=org.scenario.outcome,
                pending=org.scenario.pending,
                duration=org.scenario.duration,
                zip_problems=problems,
            )
            org.deploys[deploy.id] = deploy
            if not deploy.check_only and not problems:
                org.org_classes.update(classes)
                if (
                    package_name and deploy.outcome == "success"
                ):  # 1GP: the components join the package (a new unmanaged one if none has the name)
                    package = next((p for p in org.metadata_packages.values() if p["Name"] == package_name), None)
                    if package is None:
                        package_id = f"033{len(org.metadata_packages) + 1:012d}AAA"
                        package = org.metadata_packages[package_id] = {
                            "Id": package_id,
                            "Name": package_name,
                            "NamespacePrefix": None,
                        }
                    package.setdefault("Members", set()).update((m.type, m.name) for m in members)
        return deploy

    def _md_checkDeployStatus(self, call: etree._Element) -> None:  # noqa: N802 - named after the operation
        deploy = self.org.deploys.get(call.findtext(f"{{{MD}}}asyncProcessId") or "")
        if deploy is None:
            return self._fault("INVALID_ID_FIELD", "Invalid deploy ID")
        response = etree.Element(f"{{{MD}}}checkDeployStatusResponse")
        response.append(deploy_result_xml(deploy, self.org.clock.monotonic()))
        self._soap(200, response)

    def _md_cancelDeploy(self, call: etree._Element) -> None:  # noqa: N802
        org = self.org
        with org.lock:
            deploy = org.deploys.get(call.findtext(f"{{{MD}}}String") or "")
            if deploy is None:
                return self._fault("INVALID_ID_FIELD", "Invalid deploy ID")
            now = org.clock.monotonic()
            if now >= deploy.finishes_at or deploy.canceled_at is not None:
                return self._fault("INVALID_ID_FIELD", "Deployment already completed")
            queued = now - deploy.created < deploy.pending
            deploy.canceled_at = now
        response = etree.Element(f"{{{MD}}}cancelDeployResponse")
        result = _element(response, "result")
        _element(result, "done", queued)
        _element(result, "id", deploy.id)
        self._soap(200, response)

    def _md_deployRecentValidation(self, call: etree._Element) -> None:  # noqa: N802
        org = self.org
        with org.lock:
            validation = org.deploys.get(call.findtext(f"{{{MD}}}validationId") or "")
            now = org.clock.monotonic()
            if (
                validation is None
                or not validation.check_only
                or now < validation.finishes_at
                or validation.outcome != "success"
                or validation.zip_problems
            ):
                return self._fault("INVALID_ID_FIELD", "No recent successful validation with this ID")
            deploy = FakeDeploy(
                id=next(org._deploy_ids),
                created=now,
                check_only=False,
                test_level=validation.test_level,
                members=validation.members,
                test_methods=[],
                covered_classes=[],
                outcome="success",
                pending=org.scenario.pending,
                duration=org.scenario.duration,
                zip_problems=[],
            )
            org.deploys[deploy.id] = deploy
        response = etree.Element(f"{{{MD}}}deployRecentValidationResponse")
        _element(response, "result", deploy.id)
        self._soap(200, response)

    def _md_retrieve(self, call: etree._Element) -> None:
        """A retrieve of packages by name, answered at once; checkRetrieveStatus returns their package.xml."""
        org = self.org
        request = call.find(f"{{{MD}}}retrieveRequest")
        names = [e.text or "" for e in request.findall(f"{{{MD}}}packageNames")]
        with org.lock:
            retrieve_id = f"09S{len(org.retrieves) + 1:012d}AAA"
            org.retrieves[retrieve_id] = names
        response = etree.Element(f"{{{MD}}}retrieveResponse")
        result = _element(response, "result")
        _element(result, "done", False)
        _element(result, "id", retrieve_id)
        _element(result, "state", "Queued")
        self._soap(200, response)

    def _md_checkRetrieveStatus(self, call: etree._Element) -> None:  # noqa: N802
        org = self.org
        retrieve_id = call.findtext(f"{{{MD}}}asyncProcessId") or ""
        with org.lock:
            names = org.retrieves.get(retrieve_id)
            packages = {p["Name"]: p for p in org.metadata_packages.values()}
        if names is None:
            return self._fault("INVALID_ID_FIELD", "Retrieve result has been deleted.")
        buffer = io.BytesIO()
        missing = []
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in names:
                if name not in packages:
                    missing.append(name)
                    continue
                members: dict[str, list[str]] = {}
                for type_name, member in sorted(packages[name].get("Members", ())):
                    members.setdefault(type_name, []).append(member)
                types = "".join(
                    f"<types>{''.join(f'<members>{m}</members>' for m in ms)}<name>{t}</name></types>"
                    for t, ms in members.items()
                )
                archive.writestr(
                    f"{name}/package.xml",
                    f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{MD}"><fullName>{name}</fullName>'
                    f"{types}<version>63.0</version></Package>",
                )
        response = etree.Element(f"{{{MD}}}checkRetrieveStatusResponse")
        result = _element(response, "result")
        _element(result, "done", True)
        _element(result, "id", retrieve_id)
        for name in missing:
            message = _element(result, "messages")
            _element(message, "fileName", name)
            _element(message, "problem", f"No package named '{name}' found")
        _element(result, "status", "Succeeded")
        _element(result, "success", True)
        _element(result, "zipFile", base64.b64encode(buffer.getvalue()).decode("ascii"))
        self._soap(200, response)

    # -- Tooling API (apexgen test)
    def _rest_session_valid(self) -> bool:
        authorization = self.headers.get("Authorization", "")
        with self.org.lock:
            return authorization.startswith("Bearer ") and authorization[len("Bearer ") :] in self.org.sessions

    def _rest_unauthorized(self) -> None:
        self._json(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])

    def _run_tests(self, body: bytes) -> None:
        org = self.org
        if not self._rest_session_valid():
            return self._rest_unauthorized()
        request = json.loads(body or b"{}")
        level = request.get("testLevel", "RunSpecifiedTests")
        names = [n for n in str(request.get("classNames", "")).split(",") if n]
        with org.lock:
            org.calls.append((org.clock.time(), "runTestsAsynchronous"))
            unknown = [n for n in names if n not in org.org_classes]
            if unknown:
                return self._json(
                    400, [{"errorCode": "INVALID_INPUT", "message": f"No test class found: {unknown[0]}"}]
                )
            methods, covered = split_tests(org.org_classes, level, names)
            run = FakeTestRun(
                next(org._run_ids), org.clock.monotonic(), methods, covered, org.scenario.outcome, org.scenario.duration
            )
            org.test_runs[run.id] = run
        self._json(200, run.id)

    def _tooling_query(self, soql: str) -> None:
        org = self.org
        if re.search(r"\bFROM\s+(ApexTestRunResult|Package2VersionCreateRequest|PackageUploadRequest)\b", soql):
            fault = self._status_fault()
            if fault in ("500", "503", "drop"):
                return self._answer_fault(fault)
        if not self._rest_session_valid():
            return self._rest_unauthorized()
        source = re.search(r"\bFROM\s+(\w+)", soql, re.IGNORECASE)
        job = re.search(r"AsyncApexJobId\s*=\s*'(\w+)'", soql)
        with org.lock:
            org.calls.append((org.clock.time(), f"query:{source.group(1) if source else '?'}"))
            run = org.test_runs.get(job.group(1)) if job else None
        table = source.group(1) if source else ""
        if table in PACKAGING_TABLES:
            return self._query_answer(*packaging_query(org, table, soql))
        if table in PROVIDED_TABLES:
            return self._query_answer(*provided_query(org, table, soql))
        if table in ("ApexTestRunResult", "ApexTestResult") and run is None:
            return self._json(200, {"totalSize": 0, "done": True, "records": []})
        records: list[dict] = []
        if table == "ApexTestRunResult":
            finished = org.clock.monotonic() - run.created >= run.duration
            completed = len(run.test_methods) if finished else len(run.test_methods) // 2
            records = [
                {
                    "attributes": {"type": "ApexTestRunResult"},
                    "AsyncApexJobId": run.id,
                    "Status": "Completed" if finished else "Processing",
                    "MethodsEnqueued": len(run.test_methods),
                    "MethodsCompleted": completed,
                    "MethodsFailed": 1 if finished and failing_method(run.test_methods, run.outcome) else 0,
                    "TestTime": 93,
                }
            ]
        elif table == "ApexTestResult":
            failing = failing_method(run.test_methods, run.outcome)
            records = [
                {
                    "attributes": {"type": "ApexTestResult"},
                    "MethodName": method,
                    "Outcome": "Fail" if (cls, method) == failing else "Pass",
                    "Message": ASSERT_MESSAGE if (cls, method) == failing else None,
                    "StackTrace": f"Class.{cls}.{method}: line 5, column 1" if (cls, method) == failing else None,
                    "RunTime": 41,
                    "ApexClass": {"attributes": {"type": "ApexClass"}, "Name": cls, "NamespacePrefix": None},
                }
                for cls, method in run.test_methods
            ]
        elif table == "ApexCodeCoverageAggregate":
            names = re.findall(r"'(\w+)'", soql)
            with org.lock:
                runs = list(org.test_runs.values())
            latest = runs[-1] if runs else None
            locations, uncovered = coverage_lines(latest.outcome if latest else "success")
            covered_lines = [n for n in range(1, locations + 1) if n not in uncovered]
            records = [
                {
                    "attributes": {"type": "ApexCodeCoverageAggregate"},
                    "ApexClassOrTrigger": {"attributes": {"type": "Name"}, "Name": name},
                    "NumLinesCovered": len(covered_lines),
                    "NumLinesUncovered": len(uncovered),
                    "Coverage": {"coveredLines": covered_lines, "uncoveredLines": uncovered},
                }
                for name in (latest.covered_classes if latest else [])
                if not names or name in names
            ]
        elif table == "ApexOrgWideCoverage":
            with org.lock:
                runs = list(org.test_runs.values())
            locations, uncovered = coverage_lines(runs[-1].outcome if runs else "success")
            records = [
                {
                    "attributes": {"type": "ApexOrgWideCoverage"},
                    "PercentCovered": round(100 * (locations - len(uncovered)) / locations),
                }
            ]
        else:
            return self._json(400, [{"errorCode": "INVALID_TYPE", "message": f"fake org cannot answer: {soql}"}])
        self._query_answer(200, {"totalSize": len(records), "done": True, "records": records})

    def _completions(self, kind: str) -> None:
        if not self._rest_session_valid():
            return self._rest_unauthorized()
        if kind != "apex":
            return self._json(400, _rest_error("INVALID_TYPE", f"fake org completes apex only, not {kind!r}"))
        with self.org.lock:
            self.org.calls.append((self.org.clock.time(), "completions"))
            declarations = {
                ns: {name: {"methods": []} for name in names} for ns, names in self.org.apex_platform.items()
            }
        self._json(200, {"publicDeclarations": declarations})

    def _query_answer(self, status: int, answer: Any) -> None:
        """``answer`` in pages of ``org.query_page_size`` records, as the org sends them: the first page with
        ``done`` false and a ``nextRecordsUrl`` while records remain."""
        if status != 200 or not isinstance(answer, dict) or "records" not in answer:
            return self._json(status, answer)
        self._json(200, self._page(answer["records"], answer.get("totalSize", len(answer["records"]))))

    def _page(self, records: list[dict], total: int, version: str = "65.0") -> dict:
        org = self.org
        page, rest = records[: org.query_page_size], records[org.query_page_size :]
        answer: dict[str, Any] = {"totalSize": total, "done": not rest, "records": page}
        if rest:
            with org.lock:
                cursor = f"{next(org._cursor_ids)}-{org.query_page_size}"
                org.query_cursors[cursor] = rest
            answer["nextRecordsUrl"] = f"/services/data/v{version}/tooling/query/{cursor}"
        return answer

    def _query_more(self, version: str, cursor: str) -> None:
        org = self.org
        if not self._rest_session_valid():
            return self._rest_unauthorized()
        with org.lock:
            org.calls.append((org.clock.time(), "query:more"))
            rest = org.query_cursors.pop(cursor, None)
        if rest is None:
            return self._json(400, [{"errorCode": "INVALID_QUERY_LOCATOR", "message": "invalid query locator"}])
        self._json(200, self._page(rest, -1, version))

    # -- packaging (Tooling API sobjects)
    def _tooling_create(self, sobject: str, body: bytes) -> None:
        org = self.org
        if not self._rest_session_valid():
            return self._rest_unauthorized()
        creators = {
            "Package2": create_package2,
            "Package2VersionCreateRequest": create_version_request,
            "PackageUploadRequest": create_upload,
        }
        with org.lock:
            org.calls.append((org.clock.time(), f"create:{sobject}"))
            fault = org.scenario.deploy_fault
        if sobject not in creators:
            return self._json(404, _rest_error("NOT_FOUND", f"fake org cannot create {sobject}"))
        status, answer = creators[sobject](org, json.loads(body or b"{}"))
        if fault == "drop" and sobject != "Package2":  # the org took the request, the answer never arrives
            return self._drop()
        self._json(status, answer)

    def _tooling_update(self, sobject: str, record_id: str, body: bytes) -> None:
        org = self.org
        if not self._rest_session_valid():
            return self._rest_unauthorized()
        with org.lock:
            org.calls.append((org.clock.time(), f"update:{sobject}"))
        if sobject != "Package2Version":
            return self._json(404, _rest_error("NOT_FOUND", f"fake org cannot update {sobject}"))
        status, answer = promote(org, record_id, json.loads(body or b"{}"))
        if status == 204:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self._json(status, answer)


def deploy_command(org: FakeOrg, project: Path) -> list[str]:
    """``apexgen deploy`` of ``project`` to ``org``, to run in a subprocess (offline checks skipped)."""
    return [
        sys.executable,
        "-m",
        "apexgen",
        "deploy",
        "--project-dir",
        str(project),
        "--skip-checks",
        "--instance-url",
        org.url,
    ]


@contextlib.contextmanager
def running_org(org: FakeOrg | None = None) -> Iterator[tuple[FakeOrg, RunningServer]]:
    """Serve a fake org on https://127.0.0.1:<port>; yields (org, server) where server.ca_bundle is the test CA."""
    org = org or FakeOrg()
    metadata_schema()  # parse the 27,000-line WSDL once, before the first request needs it
    with serve_https(FakeOrgHandler, org) as server:
        org.url = server.url
        yield org, server


SAMPLE_CLASS = """public with sharing class {name} {{
    public static String greet(String who) {{
        return 'hello ' + who;
    }}
}}
"""
SAMPLE_TEST = """@IsTest
private class {name}Test {{
    @IsTest
    static void greetsByName() {{
        Assert.areEqual('hello Ada', {name}.greet('Ada'), 'greeting');
    }}

    @IsTest
    static void greetsNobody() {{
        Assert.areEqual('hello ', {name}.greet(''), 'empty greeting');
    }}
}}
"""
CLASS_META = """<?xml version="1.0" encoding="UTF-8"?>
<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>63.0</apiVersion>
    <status>Active</status>
</ApexClass>
"""


def write_sample_project(
    root: Path, services: tuple[str, ...] = ("FooService",), lwc: tuple[str, ...] = ("fooCard",)
) -> Path:
    """An SFDX project shaped like apexgen's output: services with their tests, LWC bundles, one flow."""
    classes = root / "force-app/main/default/classes"
    classes.mkdir(parents=True, exist_ok=True)
    (root / "sfdx-project.json").write_text(
        json.dumps({"packageDirectories": [{"path": "force-app", "default": True}], "sourceApiVersion": "63.0"})
    )
    (root / ".forceignore").write_text("**/__tests__/**\n**/jsconfig.json\n**/.eslintrc.json\npackage.xml\n")
    for name in services:
        (classes / f"{name}.cls").write_text(SAMPLE_CLASS.format(name=name))
        (classes / f"{name}Test.cls").write_text(SAMPLE_TEST.format(name=name))
        for file in (f"{name}.cls-meta.xml", f"{name}Test.cls-meta.xml"):
            (classes / file).write_text(CLASS_META)
    for bundle in lwc:
        folder = root / "force-app/main/default/lwc" / bundle
        (folder / "__tests__").mkdir(parents=True, exist_ok=True)
        (folder / f"{bundle}.js").write_text(
            "import { LightningElement } from 'lwc';\nexport default class X extends LightningElement {}\n"
        )
        (folder / f"{bundle}.html").write_text("<template><p>hi</p></template>\n")
        (folder / f"{bundle}.js-meta.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<LightningComponentBundle xmlns="http://soap.sforce.com/2006/04/metadata">\n'
            "    <apiVersion>63.0</apiVersion>\n    <isExposed>false</isExposed>\n</LightningComponentBundle>\n"
        )
        (folder / "__tests__" / f"{bundle}.test.js").write_text("test('x', () => {});\n")
    flows = root / "force-app/main/default/flows"
    flows.mkdir(parents=True, exist_ok=True)
    (flows / "Greeting_Flow.flow-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Flow xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <apiVersion>63.0</apiVersion>\n    <label>Greeting</label>\n    <processType>AutoLaunchedFlow</processType>\n"
        "    <status>Draft</status>\n</Flow>\n"
    )
    return root
