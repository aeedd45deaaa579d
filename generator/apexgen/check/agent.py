"""The fast check of a project's Agentforce metadata (pure Python): agent actions (GenAiFunction) against the Apex
classes or Flows they call, their ``schema.json`` files, topics (GenAiPlugin) against the actions they list, the
API versions agent metadata needs, and the global surface an action needs in a managed package.

Severities follow the check's certainty rule (``findings``): what the platform refuses at deploy is a blocker (a
target or listed action that does not exist, a schema that breaks the documented format or disagrees with the
class, a type not available at the project's API version); what fails only when the agent runs (no output used
by the planner, a non-global action in a namespaced package) or deploys as a silent no-op (``activeVersion`` at
API 64.0) is a high rule finding. Keywords and Lightning types no source documents are "not checked" (info).
Whether the platform refuses a schema that disagrees with its class at deploy is not documented: the safe
design treats it as a blocker, since an agent cannot call such an action either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apexgen.check.agent_schema_check import SchemaFile, compare_with_class, schema_findings
from apexgen.check.findings import BLOCKER, Finding, ProjectFiles
from apexgen.errors import SpecError
from apexgen.generate.invocable import ApexClass, ApexSource, InvocableMethod, element_type, read_apex
from apexgen.generate.manifest import ProjectBusy, records_lock
from apexgen.generate.write import generated_file_states
from apexgen.salesforce import METADATA_NAMESPACE

TOOL = "agent"
HIGH, INFO = "high", "info"
FUNCTION_SUFFIX = ".genAiFunction-meta.xml"
# Metadata API versions (Metadata API Developer Guide, each type's "Version" section; GenAiPlanner's retirement:
# GenAiPlannerBundle's page and forcedotcom/cli#3309).
SINCE = {"GenAiFunction": 60.0, "GenAiPlugin": 62.0, "GenAiPlannerBundle": 64.0}
PLANNER_LAST_VERSION = 63.0
ACTIVE_VERSION_GONE = 64.0


def _version(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _xml(path: Path) -> Any:
    from lxml import etree

    try:
        return etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError:
        return None  # the XSD check reports it


def _child(root: Any, name: str) -> Any:
    return root.find(f"{{{METADATA_NAMESPACE}}}{name}")


def _unedited_generated_files(project: ProjectFiles) -> set[str] | None:
    """The files apexgen generated and nobody edited since; None when its manifest cannot be read or a
    generate is writing it (the manifest check, which waited already, reports that), so which actions are
    apexgen's is not known."""
    try:
        with records_lock(project.root, exclusive=False, wait=0):
            return {path for path, state in generated_file_states(project.root) if state == "ok"}
    except (SpecError, ProjectBusy):
        return None


class ApexIndex:
    """The project's Apex classes by name, read on first use; ``generated``: apexgen's unedited files."""

    def __init__(self, project: ProjectFiles, generated: set[str] | None):
        self.generated = generated
        self.paths = {path.stem.lower(): path for path in project.files(lambda name: name.endswith(".cls"))}
        self._read: dict[str, ApexSource] = {}

    def source(self, top: str) -> tuple[Path, ApexSource] | None:
        path = self.paths.get(top.lower())
        if path is None:
            return None
        if top.lower() not in self._read:
            self._read[top.lower()] = read_apex(path.read_text("utf-8", errors="replace"))
        return path, self._read[top.lower()]

    def resolve(self, type_name: str, owner: str, source: ApexSource) -> tuple[Path | None, ApexClass] | None:
        """The class ``type_name`` names from inside ``owner``: in its own file, else a top-level class."""
        own = source.resolve(type_name, owner)
        if own is not None:
            return None, own
        found = self.source(type_name.split(".")[0])
        if found is None:
            return None
        path, other = found
        named = other.classes.get(type_name.lower())
        return (path, named) if named else None


def check_agent_metadata(project: ProjectFiles) -> list[Finding]:
    """Findings for every GenAiFunction, GenAiPlugin, planner and prompt template of the project."""
    functions = project.files(lambda name: name.endswith(FUNCTION_SUFFIX))
    plugins = project.files(lambda name: name.endswith(".genAiPlugin-meta.xml"))
    if not functions and not plugins and not project.files(lambda name: "genAi" in name):
        return []
    version = _version(project.source_api_version)
    apex = ApexIndex(project, _unedited_generated_files(project))
    findings: list[Finding] = []
    for path in functions:
        findings += _function_findings(project, path, apex)
    names = {path.name[: -len(FUNCTION_SUFFIX)] for path in functions}
    for path in plugins:
        findings += _plugin_findings(project, path, names)
    findings += _version_findings(project, version)
    return findings


def _target_exists(project: ProjectFiles, kind: str, target: str) -> bool | None:
    """Whether the Flow or prompt template ``target`` is in the project; None when it cannot be known here."""
    folders = {
        "flow": ("flows", ".flow-meta.xml"),
        "generatePromptResponse": ("genAiPromptTemplates", ".genAiPromptTemplate-meta.xml"),
    }
    if kind not in folders or "__" in target:
        return None  # a standard action, or one of another namespace
    folder, suffix = folders[kind]
    return any(p.parent.name == folder for p in project.files(lambda name: name == target + suffix))


def _function_findings(project: ProjectFiles, path: Path, apex: ApexIndex) -> list[Finding]:
    root = _xml(path)
    if root is None:
        return []
    file = project.relative(path)
    folder = path.parent
    schemas = {part: SchemaFile.read(project, folder / part / "schema.json") for part in ("input", "output")}
    findings = [f for schema in schemas.values() if schema for f in schema.problems]
    findings += [f for part, schema in schemas.items() if schema for f in schema_findings(schema, part)]
    target_element = _child(root, "invocationTarget")
    kind = (
        (_child(root, "invocationTargetType").text or "").strip()
        if _child(root, "invocationTargetType") is not None
        else ""
    )
    if target_element is None or not (target_element.text or "").strip():
        return findings  # the XSD check reports the missing required element
    target = target_element.text.strip()
    line = target_element.sourceline or 0
    if kind != "apex":
        exists = _target_exists(project, kind, target)
        if exists is False:
            message = f"invocationTarget '{target}' ({kind}) is not in the project; the deploy refuses an action without its target"
            findings.append(Finding(file, line, 0, BLOCKER, TOOL, "missing-target", message))
        return findings
    if "__" in target and (not project.namespace or not target.lower().startswith(project.namespace.lower() + "__")):
        return findings + [
            Finding(file, line, 0, INFO, TOOL, "not-checked", f"'{target}' is of another namespace: not checked")
        ]
    class_name = target.split("__", 1)[-1]
    found = apex.source(class_name)
    method = next((m for m in found[1].methods if "." not in m.owner), None) if found else None
    if found is None or method is None:
        why = "is not an Apex class of the project" if found is None else "has no @InvocableMethod"
        message = f"invocationTarget '{target}' {why}; the deploy refuses an apex action without it"
        return findings + [Finding(file, line, 0, BLOCKER, TOOL, "missing-target", message)]
    class_path, source = found
    return findings + _class_findings(project, (file, line), (class_path, source, method), schemas, apex)


def _class_findings(
    project: ProjectFiles,
    at: tuple[str, int],
    target: tuple[Path, ApexSource, InvocableMethod],
    schemas: dict[str, SchemaFile | None],
    apex: ApexIndex,
) -> list[Finding]:
    class_path, source, method = target
    file, line = at
    findings: list[Finding] = []
    compared: list[str] = []
    sides = {"input": method.parameter_type, "output": method.return_type}
    classes: list[tuple[Path, ApexClass]] = [(class_path, source.classes[method.owner.lower()])]
    for part, list_type in sides.items():
        schema = schemas[part]
        item = element_type(list_type)
        resolved = apex.resolve(item, method.owner, source) if item else None
        if resolved is None:
            findings.append(
                Finding(
                    file,
                    0,
                    0,
                    INFO,
                    TOOL,
                    "not-checked",
                    f"{part}: {list_type} is no class of the project: not checked",
                )
            )
            continue
        owner_path, owner = resolved
        classes.append((owner_path or class_path, owner))
        if schema is None:
            continue
        found, keys = compare_with_class(schema, part, owner, project.namespace or "", source, project)
        findings += found
        compared.append(f"{part} {owner.name}: {', '.join(keys) or 'none'}")
    # An action apexgen generated over a class it generated agrees by construction: only others get the note
    # (and none when the manifest that tells them apart cannot be read).
    ours = {file, project.relative(class_path)} | {s.file for s in schemas.values() if s}
    if compared and apex.generated is not None and not ours <= apex.generated:
        message = f"compared with {method.owner}.{method.name} (keys, types, required): " + "; ".join(compared)
        findings.append(Finding(file, line, 0, INFO, TOOL, "compared", message))
    if project.namespace:
        findings += _global_findings(project, classes, method, class_path)
    return findings


def _global_findings(
    project: ProjectFiles, classes: list[tuple[Path, ApexClass]], method: InvocableMethod, class_path: Path
) -> list[Finding]:
    """In a managed package an agent reaches only global actions, with global types and variables."""
    rule = "must be global in a namespaced package: the agent cannot call it from outside the namespace"
    findings = []
    if method.access != "global":
        findings.append(
            Finding(
                project.relative(class_path),
                method.line,
                0,
                HIGH,
                TOOL,
                "not-global",
                f"{method.owner}.{method.name} {rule}",
            )
        )
    for path, cls in classes:
        relative = project.relative(path)
        if cls.access != "global":
            findings.append(Finding(relative, cls.line, 0, HIGH, TOOL, "not-global", f"class {cls.name} {rule}"))
        for variable in cls.variables:
            if variable.access != "global":
                message = f"@InvocableVariable {cls.name}.{variable.name} {rule}"
                findings.append(Finding(relative, variable.line, 0, HIGH, TOOL, "not-global", message))
    return findings


def _plugin_findings(project: ProjectFiles, path: Path, functions: set[str]) -> list[Finding]:
    root = _xml(path)
    if root is None:
        return []
    findings = []
    for element in root.iter(f"{{{METADATA_NAMESPACE}}}functionName"):
        name = (element.text or "").strip()
        if name and name not in functions and "__" not in name:
            message = f"lists action '{name}', which is no GenAiFunction of the project; the deploy refuses the topic"
            findings.append(
                Finding(project.relative(path), element.sourceline or 0, 0, BLOCKER, TOOL, "missing-action", message)
            )
    return findings


def _version_findings(project: ProjectFiles, version: float | None) -> list[Finding]:
    """Agent metadata that the project's API version does not have, or no longer reads."""
    if version is None:
        return []
    findings = []
    at = f"the project's API version {version:.1f} (sourceApiVersion)"
    suffixes = {
        ".genAiFunction-meta.xml": "GenAiFunction",
        ".genAiPlugin-meta.xml": "GenAiPlugin",
        ".genAiPlannerBundle": "GenAiPlannerBundle",
    }
    for path in project.files(lambda name: name.endswith(tuple(suffixes))):
        type_name = next(name for suffix, name in suffixes.items() if path.name.endswith(suffix))
        if version < SINCE[type_name]:
            message = f"{type_name} needs API {SINCE[type_name]:.1f} or later; {at} does not have it"
            findings.append(Finding(project.relative(path), 1, 0, BLOCKER, TOOL, "api-version", message))
    if version > PLANNER_LAST_VERSION:
        for path in project.files(lambda name: name.endswith(".genAiPlanner-meta.xml")):
            message = f"GenAiPlanner is read only up to API {PLANNER_LAST_VERSION:.1f}; at {at} use GenAiPlannerBundle"
            findings.append(Finding(project.relative(path), 1, 0, BLOCKER, TOOL, "api-version", message))
    if version >= ACTIVE_VERSION_GONE:
        for path in project.files(lambda name: name.endswith(".genAiPromptTemplate-meta.xml")):
            root = _xml(path)
            element = _child(root, "activeVersion") if root is not None else None
            if element is not None:
                message = (
                    f"activeVersion is ignored from API {ACTIVE_VERSION_GONE:.1f} ({at}): the deploy succeeds and "
                    "activates nothing; use activeVersionIdentifier"
                )
                findings.append(
                    Finding(project.relative(path), element.sourceline or 0, 0, HIGH, TOOL, "active-version", message)
                )
    return findings
