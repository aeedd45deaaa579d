"""The fast check of metadata XML files, judged by what the Metadata API accepts.

Every ``-meta.xml`` file and ``package.xml`` is read with lxml and compared with the Metadata API XSD
(``apexgen.check.xsd``). Only what the org would reject is a deploy blocker: XML that is not well-formed,
a root that is no metadata type, a value of the wrong type, and an element or attribute its type does not
have at all, where the schema is at least as new as the file's API version. The platform accepts the
rest, so the rest is at most a note:
- children out of the schema's order, and required children left out (the platform fills in defaults,
  e.g. ``status`` and ``packageVersions`` of an ApexClass): one low note per file;
- elements and attributes unknown to the bundled schema in a file of a newer API version: info;
- ``xsi:nil`` content, the ``fqn`` attribute Salesforce's tools write into ``.js-meta.xml`` files, and
  roots in the Tooling API's metadata namespace (which the sf CLI writes): nothing.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any, cast

from apexgen.check.cache import FindingsCache
from apexgen.check.findings import BLOCKER, Finding, ProjectFiles
from apexgen.check.xsd import declared_children, metadata_schema, schema_api_version
from apexgen.salesforce import META_SUFFIX, METADATA_NAMESPACE, SFDX_PROJECT_FILE

SPEC_FILE = "apexgen.toml"
TOOLING_NAMESPACE = "urn:metadata.tooling.soap.sforce.com"
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
# Attributes Salesforce's own tools write that no metadata type declares (sf's LWC templates write fqn).
TOOL_ATTRIBUTES = {"fqn"}
NOTE, NEWER = "low", "info"
# The root element a metadata file must have, by the end of its name (source format).
ROOT_ELEMENT_BY_SUFFIX = {
    ".cls-meta.xml": "ApexClass",
    ".trigger-meta.xml": "ApexTrigger",
    ".js-meta.xml": "LightningComponentBundle",
    ".flow-meta.xml": "Flow",
    ".object-meta.xml": "CustomObject",
    ".field-meta.xml": "CustomField",
    ".permissionset-meta.xml": "PermissionSet",
    "package.xml": "Package",
}
_ELEMENT_NAMED = re.compile(r"Element '([^']+)'")
# Enumerations Salesforce extends in every release: Flow's actionType (InvocableActionType) gains a value with
# each new standard invocable action. In a file newer than the bundled schema, a value it lacks is not checked.
OPEN_ENUMERATIONS = frozenset({"actionType"})
# SDR's metadata registry (the sf CLI's, which the converter reads) names every type the sf CLI deploys,
# including those newer than the bundled schema. Read here as data: the check does not depend on the converter.
SDR_REGISTRY = Path(__file__).resolve().parents[1] / "convert" / "sdr" / "metadataRegistry.json"


@cache
def registry_type_names() -> frozenset[str]:
    """The metadata type names of SDR's registry."""
    types = json.loads(SDR_REGISTRY.read_text("utf-8"))["types"]
    return frozenset(str(t["name"]) for t in types.values() if "name" in t)


def _expected_root(name: str) -> str | None:
    return next((root for suffix, root in ROOT_ELEMENT_BY_SUFFIX.items() if name.endswith(suffix)), None)


def _version(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _same_version(a: str, b: str) -> bool:
    return _version(a) == _version(b) if _version(a) is not None else a == b


def _local(name: Any) -> str:
    from lxml import etree

    return str(etree.QName(name).localname)


def unknown_names(root: Any) -> list[tuple[int, str, str, str]]:
    """(line, kind, name, parent type) of each element and attribute its parent's type does not declare.

    Order does not matter here; content of a type the schema leaves open (any type) is not looked into.
    """
    found: list[tuple[int, str, str, str]] = []

    def walk(element: Any, type_name: str) -> None:
        for attribute in element.attrib:
            namespace = attribute[1:].split("}")[0] if attribute.startswith("{") else None
            if namespace != XSI_NAMESPACE and _local(attribute) not in TOOL_ATTRIBUTES:
                found.append((element.sourceline or 0, "attribute", _local(attribute), type_name))
        children = declared_children(type_name) or {}
        for child in element:
            if not isinstance(child.tag, str):
                continue  # comments, processing instructions
            name = _local(child)
            child_type = children.get(name)
            if name not in children:
                found.append((child.sourceline or 0, "element", name, type_name))
            elif child_type is not None:
                walk(child, child_type)

    walk(root, _local(root))
    return found


def _in_metadata_namespace(root: Any) -> None:
    """Move a Tooling API metadata root and its children into the Metadata API namespace (in memory)."""
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(f"{{{TOOLING_NAMESPACE}}}"):
            element.tag = f"{{{METADATA_NAMESPACE}}}{_local(element)}"


def _file_version(path: Path, root: Any, project: ProjectFiles) -> tuple[Any, float | None]:
    """The element naming the file's API version (None if it names none), and the version that applies."""
    tag = "version" if path.name == "package.xml" else "apiVersion"
    element = root.find(f"{{{METADATA_NAMESPACE}}}{tag}")
    own = _version(element.text) if element is not None else None
    return element, own if own is not None else _version(project.source_api_version)


def _newer_than_schema(message: str, element: str) -> str | None:
    """Why an lxml verdict on a file newer than the bundled schema is not checked, or None when it stands."""
    if "No matching global declaration" in message and element in registry_type_names():
        return f"{element} is a metadata type newer than the bundled v{schema_api_version()} schema: not checked"
    if "[facet 'enumeration']" in message and element in OPEN_ENUMERATIONS:
        value = message.split("The value ", 1)[-1].split(" is not", 1)[0]
        return f"{element} {value} is not among the values of the bundled v{schema_api_version()} schema, which grow each release: not checked"
    return None


def _schema_findings(
    file: str, document: Any, schema: Any, unknown: set[tuple[int, str]], newer: bool
) -> list[Finding]:
    """lxml's verdicts on ``document`` (``newer``: of an API version the schema predates), as what the Metadata API
    does with each."""
    findings: list[Finding] = []
    noted: set[str] = set()
    if schema.validate(document):
        return findings
    for error in schema.error_log:
        message = error.message.replace(f"{{{METADATA_NAMESPACE}}}", "")  # every element is in it
        named = _ELEMENT_NAMED.match(message)
        element = named[1] if named else ""
        if "attribute" in message and "is not allowed" in message or "nillable" in message:
            continue  # attributes: unknown_names judged them; xsi:nil: the platform accepts it
        if "This element is not expected" in message:
            if (int(error.line), element) in unknown or "order" in noted:
                continue
            noted.add("order")
            findings.append(
                Finding(
                    file,
                    int(error.line),
                    int(error.column),
                    NOTE,
                    "xsd",
                    "order",
                    f"<{element}> is out of the schema's order; the Metadata API accepts it: {message}",
                )
            )
        elif "Missing child element" in message:
            if "defaults" not in noted:
                noted.add("defaults")
                findings.append(
                    Finding(
                        file,
                        int(error.line),
                        int(error.column),
                        NOTE,
                        "xsd",
                        "defaults",
                        f"required children left out; the platform fills in defaults: {message}",
                    )
                )
        elif newer and _newer_than_schema(message, element):
            reason = _newer_than_schema(message, element) or ""
            findings.append(Finding(file, int(error.line), int(error.column), NEWER, "xsd", "newer-type", reason))
        else:
            # A value of the wrong type. It stays a blocker in files newer than the schema too: no value
            # seen in real projects was added after v63, and the planted wrong values must stay blockers.
            findings.append(Finding(file, int(error.line), int(error.column), BLOCKER, "xsd", "schema", message))
    return findings


def check_metadata_xml(project: ProjectFiles, spec: Any, use_cache: bool = True) -> list[Finding]:
    """Every metadata XML file, as the Metadata API would take it; API versions agree (info).

    With ``use_cache``, a file whose content and path are as at the last check (with the same
    sourceApiVersion) gets that check's findings without being read again.
    """
    files = project.files(lambda name: name.endswith(META_SUFFIX) or name == "package.xml")
    findings = []
    source_version = project.source_api_version
    if spec is not None and source_version and not _same_version(spec.project.api_version, source_version):
        from apexgen.spec.positions import key_positions

        text = (project.root / SPEC_FILE).read_text("utf-8")  # loaded as the spec just now
        line, column = key_positions(text).get(("project", "api_version"), (0, 0))
        findings.append(
            Finding(
                SPEC_FILE,
                line,
                column,
                NEWER,
                "meta",
                "api-version",
                f"project.api_version {spec.project.api_version} differs from sourceApiVersion {source_version} in {SFDX_PROJECT_FILE}",
            )
        )
    if not use_cache:
        return findings + _one_note_per_version(_file_findings(project, files))
    store = FindingsCache(project, "metadata-xml", f"{source_version}\0{schema_api_version()}")
    known, stale = store.split(files)
    found = _file_findings(project, stale) if stale else []
    store.save(stale, found)
    return findings + _one_note_per_version(known + found)


def _one_note_per_version(findings: list[Finding]) -> list[Finding]:
    """The API-version notes of files that share one version as one note (a spec of another version than the
    project's would give one per generated file), at the first of them; every other finding as it is."""
    notes: dict[str, list[Finding]] = {}
    kept = []
    for finding in findings:
        if finding.tool == "meta" and finding.rule == "api-version":
            notes.setdefault(finding.message.split(" differs ", 1)[0].split(" ", 1)[-1], []).append(finding)
        else:
            kept.append(finding)
    for version, same in notes.items():
        first = min(same)
        if len(same) == 1:
            kept.append(first)
            continue
        reason = first.message.split(" differs ", 1)[1]
        message = f"{len(same)} files (the first here) have API version {version}, which differs {reason}"
        kept.append(Finding(first.file, first.line, first.column, first.severity, "meta", "api-version", message))
    return kept


def _file_findings(project: ProjectFiles, files: list[Path]) -> list[Finding]:
    """What the Metadata API would say of each of ``files``: each finding is about the file it names."""
    from lxml import etree

    findings = []
    source_version = project.source_api_version
    documents = []
    for path in files:
        file = project.relative(path)
        try:
            document = etree.parse(str(path))
        except etree.XMLSyntaxError as exc:
            line, column = exc.position
            findings.append(Finding(file, line, column, BLOCKER, "xsd", "not-well-formed", exc.msg))
            continue
        root = document.getroot()
        name = etree.QName(root)
        expected = _expected_root(path.name)
        if name.namespace == TOOLING_NAMESPACE:
            _in_metadata_namespace(root)
        elif name.namespace != METADATA_NAMESPACE:
            findings.append(
                Finding(
                    file,
                    cast(int, root.sourceline or 0),
                    0,
                    BLOCKER,
                    "xsd",
                    "namespace",
                    f"root <{root.tag}> must be in namespace {METADATA_NAMESPACE}",
                )
            )
            continue
        if expected and name.localname != expected:
            findings.append(
                Finding(
                    file,
                    cast(int, root.sourceline or 0),
                    0,
                    BLOCKER,
                    "xsd",
                    "root-element",
                    f"root element is <{name.localname}>; a {path.name.split('.', 1)[-1]} file needs <{expected}>",
                )
            )
        else:
            documents.append((path, file, document))
    schema = metadata_schema(frozenset(_local(d.getroot()) for _, _, d in documents))
    for path, file, document in documents:
        version_element, version = _file_version(path, document.getroot(), project)
        newer = version is not None and version > schema_api_version()
        unknown = unknown_names(document.getroot())
        schema_version = schema_api_version()
        for line, kind, unknown_name, parent in unknown:
            if newer:
                message = f"{kind} '{unknown_name}' is not in {parent} of the bundled v{schema_version} schema; this file is of API {version}, which may have it"
            else:
                message = (
                    f"{parent} has no {kind} '{unknown_name}' (Metadata API v{schema_version}); the org rejects it"
                )
            findings.append(Finding(file, line, 0, NEWER if newer else BLOCKER, "xsd", f"unknown-{kind}", message))
        findings += _schema_findings(
            file, document, schema, {(line, name) for line, kind, name, _ in unknown if kind == "element"}, newer
        )
        if (
            source_version
            and version_element is not None
            and version_element.text
            and not _same_version(version_element.text, source_version)
        ):
            findings.append(
                Finding(
                    file,
                    version_element.sourceline or 0,
                    0,
                    NEWER,
                    "meta",
                    "api-version",
                    f"{version_element.tag.split('}')[-1]} {version_element.text} differs from sourceApiVersion {source_version} in {SFDX_PROJECT_FILE}",
                )
            )
    return findings
