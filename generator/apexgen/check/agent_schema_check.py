"""An agent action's ``input/schema.json`` and ``output/schema.json``: the documented keywords and Lightning types,
and agreement with the ``@InvocableVariable``s of the class the action calls (property keys, types, required;
titles are labels, free to differ).

Documented: the GenAiFunction page of the Metadata API Developer Guide (root ``lightning:type``, ``required``,
``properties``; per property ``title`` and ``lightning:type`` required, ``description``, ``lightning:isPII``,
``copilotAction:isUserInput``, ``copilotAction:isDisplayable``, ``copilotAction:isUsedByPlanner``, ``maxLength``/
``minLength``, ``maximum``/``minimum``, ``lightning:allowedUrlSchemes``) and the standard Lightning types
(developer.salesforce.com/docs/platform/lightning-types). Written by Salesforce's tools in real projects and
checked as such: ``unevaluatedProperties``, ``items`` and ``maxItems``. Anything else is "not checked".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apexgen.check.findings import BLOCKER, Finding, ProjectFiles
from apexgen.check.json_positions import json_positions
from apexgen.generate.agent_schema import DISPLAYABLE, PII, TYPE, USED_BY_PLANNER, USER_INPUT, class_type_namer
from apexgen.generate.invocable import ApexClass, ApexSource, element_type

TOOL = "agent"
HIGH, INFO = "high", "info"
STANDARD_TYPES = frozenset(
    "lightning__" + name
    for name in [
        "booleanType",
        "dateType",
        "dateTimeType",
        "dateTimeStringType",
        "integerType",
        "listType",
        "multilineTextType",
        "numberType",
        "objectType",
        "recordIdType",
        "richTextType",
        "textType",
        "timeType",
        "urlType",
    ]
)
# Keyword -> the JSON type its value must have
PROPERTY_KEYWORDS: dict[str, type | tuple[type, ...]] = {
    "title": str,
    "description": str,
    TYPE: str,
    PII: bool,
    USER_INPUT: bool,
    DISPLAYABLE: bool,
    USED_BY_PLANNER: bool,
    "maxLength": int,
    "minLength": int,
    "maximum": (int, float),
    "minimum": (int, float),
    "lightning:allowedUrlSchemes": list,
    "items": dict,
    "maxItems": int,
}
ROOT_KEYWORDS: dict[str, type | tuple[type, ...]] = {
    "required": list,
    "properties": dict,
    TYPE: str,
    "unevaluatedProperties": bool,
    "title": str,
    "description": str,
}
# Apex type (lower case) -> the Lightning types a property of that type may have
COMPATIBLE = {
    "string": {"lightning__textType", "lightning__multilineTextType", "lightning__richTextType", "lightning__urlType"},
    "integer": {"lightning__integerType", "lightning__numberType"},
    "long": {"lightning__integerType", "lightning__numberType"},
    "decimal": {"lightning__numberType", "lightning__integerType"},
    "double": {"lightning__numberType", "lightning__integerType"},
    "boolean": {"lightning__booleanType"},
    "date": {"lightning__dateType"},
    "datetime": {"lightning__dateTimeStringType", "lightning__dateTimeType"},
    "id": {"lightning__recordIdType", "lightning__textType"},
}


@dataclass
class SchemaFile:
    file: str
    text: str
    data: Any
    problems: list[Finding] = field(default_factory=list)
    _positions: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    @classmethod
    def read(cls, project: ProjectFiles, path: Path) -> SchemaFile | None:
        if not path.is_file():
            return None
        file = project.relative(path)
        text = path.read_text("utf-8", errors="replace")
        try:
            data = json.loads(text)
        except ValueError as exc:
            line = getattr(exc, "lineno", 0)
            return cls(
                file, text, None, [Finding(file, line, 0, BLOCKER, TOOL, "schema-json", f"not valid JSON: {exc}")]
            )
        return cls(file, text, data, [], json_positions(text))

    def line(self, *at: str | int) -> int:
        """The line of the member at path ``at`` (or of its nearest parent found)."""
        while at and at not in self._positions:
            at = at[:-1]
        return self.text.count("\n", 0, self._positions[at]) + 1 if at else 1

    def finding(self, at: tuple[str | int, ...], severity: str, rule: str, message: str) -> Finding:
        return Finding(self.file, self.line(*at), 0, severity, TOOL, rule, message)

    def properties(self) -> dict[str, Any]:
        found = self.data.get("properties") if isinstance(self.data, dict) else None
        return found if isinstance(found, dict) else {}


def _json_type(value: Any, expected: type | tuple[type, ...]) -> bool:
    if (
        isinstance(value, bool)
        and expected is not bool
        and bool not in (expected if isinstance(expected, tuple) else ())
    ):
        return False
    return isinstance(value, expected)


def _keyword_findings(
    schema: SchemaFile, at: tuple[str | int, ...], item: dict[str, Any], known: dict[str, Any]
) -> tuple[list[Finding], list[str]]:
    findings, unknown = [], []
    for key, value in item.items():
        expected = known.get(key)
        if expected is None:
            unknown.append(key)
        elif not _json_type(value, expected):
            name = expected.__name__ if isinstance(expected, type) else "number"
            findings.append(
                schema.finding(at + (key,), BLOCKER, "keyword", f"{key} must be a JSON {name}, not {json.dumps(value)}")
            )
    return findings, unknown


def _type_findings(
    schema: SchemaFile, at: tuple[str | int, ...], item: dict[str, Any], unchecked: set[str]
) -> list[Finding]:
    kind = item.get(TYPE)
    if not isinstance(kind, str):
        return []
    if kind.startswith("lightning__") and kind not in STANDARD_TYPES:
        unchecked.add(kind)
    if kind == "lightning__listType" and isinstance(item.get("items"), dict):
        items = item["items"]
        if TYPE not in items:
            return [schema.finding(at + ("items",), BLOCKER, "keyword", "items of a list needs a lightning:type")]
        return _type_findings(schema, at + ("items",), items, unchecked)
    return []


def schema_findings(schema: SchemaFile, part: str) -> list[Finding]:
    """The documented format of one schema file; for outputs, at least one output used by the planner."""
    data = schema.data
    if data is None:
        return []
    if not isinstance(data, dict):
        return [schema.finding((), BLOCKER, "schema", "the schema must be a JSON object")]
    findings, unknown = _keyword_findings(schema, (), data, ROOT_KEYWORDS)
    if data.get(TYPE) != "lightning__objectType":
        findings.append(
            schema.finding((TYPE,), BLOCKER, "schema", 'the root needs "lightning:type": "lightning__objectType"')
        )
    unchecked: set[str] = set()
    for name, item in schema.properties().items():
        at: tuple[str | int, ...] = ("properties", name)
        if not isinstance(item, dict):
            findings.append(schema.finding(at, BLOCKER, "schema", f"property '{name}' must be a JSON object"))
            continue
        for key in ("title", TYPE):
            if key not in item:
                findings.append(schema.finding(at, BLOCKER, "schema", f"property '{name}' needs {key} (required)"))
        found, extra = _keyword_findings(schema, at, item, PROPERTY_KEYWORDS)
        findings += found
        unknown += [f"{name}.{key}" for key in extra]
        findings += _type_findings(schema, at, item, unchecked)
    for name in data.get("required", []) if isinstance(data.get("required"), list) else []:
        if name not in schema.properties():
            findings.append(
                schema.finding(("required",), BLOCKER, "schema", f"required names '{name}', which is not a property")
            )
    if (
        part == "output"
        and schema.properties()
        and not any(
            isinstance(item, dict) and item.get(USED_BY_PLANNER) is True for item in schema.properties().values()
        )
    ):
        message = (
            f"no output has {USED_BY_PLANNER} true: the planner cannot read the action's result and answers at random"
        )
        findings.append(schema.finding(("properties",), HIGH, "no-planner-output", message))
    if unknown or unchecked:
        names = ", ".join(sorted(set(unknown) | unchecked))
        findings.append(
            schema.finding((), INFO, "not-checked", f"keywords or types no source documents, not checked: {names}")
        )
    return findings


def _expected_type(
    apex_type: str, source: ApexSource, owner: str, namespace: str
) -> tuple[set[str] | None, str | None]:
    """(Lightning types an ``apex_type`` property may have, or None for any; the Apex class type it names, if any)."""
    if element_type(apex_type):
        return {"lightning__listType"}, None
    compatible = COMPATIBLE.get(apex_type.lower())
    if compatible:
        return compatible, None
    top = owner.split(".")[0]
    inner = {name.split(".", 1)[1] for name in source.classes if "." in name and name.startswith(top.lower() + ".")}
    return None, class_type_namer(top, inner, namespace)(apex_type)


def _same_class_type(written: str, expected: str, namespace: str) -> bool:
    """Whether two Apex-class Lightning types name the same class. Inside a namespaced project the class may be
    written with ``c__`` or the namespace; which one the platform wants there is not documented, so both pass."""
    prefixes = {"c"} | ({namespace.lower()} if namespace else set())

    def bare(name: str) -> str | None:
        head, _, rest = name.lower().removeprefix("@apexclasstype/").partition("__")
        return rest if head in prefixes and name.lower().startswith("@apexclasstype/") else None

    return bare(written) is not None and bare(written) == bare(expected)


def _compare_type(
    schema: SchemaFile,
    at: tuple[str | int, ...],
    item: dict[str, Any],
    apex_type: str,
    context: tuple[ApexSource, str, str, dict[str, Any]],
) -> list[Finding]:
    source, owner, namespace, bundles = context
    kind = item.get(TYPE)
    if not isinstance(kind, str):
        return []
    allowed, class_type = _expected_type(apex_type, source, owner, namespace)
    if allowed is not None and kind in allowed:
        inner_type = element_type(apex_type)
        if inner_type and isinstance(item.get("items"), dict):
            return _compare_type(schema, at + ("items",), item["items"], inner_type, context)
        return []
    if class_type is not None:
        bundle = (
            bundles.get(kind.split("__", 1)[-1].lower())
            if "__" in kind and not kind.startswith(("lightning__", "@"))
            else None
        )
        named = bundle.get(TYPE) if isinstance(bundle, dict) else kind
        if isinstance(named, str) and _same_class_type(named, class_type, namespace):
            return []
        if not (isinstance(named, str) and named.startswith("@apexClassType/")):
            return []  # a custom type apexgen cannot see through: not checked
        expected = class_type
    else:
        expected = " or ".join(sorted(allowed or ()))
    message = f"{at[-1] if at[-1] != 'items' else at[-2]}: lightning:type {kind} does not fit the Apex type {apex_type} (expected {expected})"
    return [schema.finding(at + (TYPE,), BLOCKER, "type", message)]


def compare_with_class(
    schema: SchemaFile, part: str, owner: ApexClass, namespace: str, source: ApexSource, project: ProjectFiles
) -> tuple[list[Finding], list[str]]:
    """Findings where the schema's properties disagree with ``owner``'s variables, and the keys compared."""
    if schema.data is None:
        return [], []
    variables = {v.name.lower(): v for v in owner.variables}
    properties = schema.properties()
    findings: list[Finding] = []
    declared = ", ".join(v.name for v in owner.variables) or "none"
    required = (
        {str(n).lower() for n in schema.data.get("required", []) if isinstance(n, str)}
        if isinstance(schema.data.get("required"), list)
        else set()
    )
    context = (source, owner.name, namespace, lightning_type_bundles(project))
    for name, item in properties.items():
        at: tuple[str | int, ...] = ("properties", name)
        variable = variables.get(name.lower())
        if variable is None:
            message = f"{part} property '{name}' is no @InvocableVariable of {owner.name} (its variables: {declared})"
            findings.append(schema.finding(at, BLOCKER, "unknown-property", message))
            continue
        if isinstance(item, dict):
            findings += _compare_type(schema, at, item, variable.type, context)
        if part == "input" and variable.required != (name.lower() in required):
            state = "required" if variable.required else "optional"
            message = (
                f"input '{name}' is {state} in {owner.name} but {'not ' if variable.required else ''}listed in required"
            )
            findings.append(
                schema.finding(("required",) if "required" in schema.data else at, BLOCKER, "required", message)
            )
    if part == "input":
        for variable in owner.variables:
            if variable.required and variable.name.lower() not in {n.lower() for n in properties}:
                message = f"required @InvocableVariable {owner.name}.{variable.name} has no input property"
                findings.append(schema.finding(("properties",), BLOCKER, "missing-property", message))
    return findings, list(properties)


def lightning_type_bundles(project: ProjectFiles) -> dict[str, Any]:
    """The schema.json of each custom Lightning type (LightningTypeBundle) of the project, by type name."""
    bundles = {}
    for path in project.files(lambda name: name == "schema.json"):
        if path.parent.parent.name == "lightningTypes":
            try:
                bundles[path.parent.name.lower()] = json.loads(path.read_text("utf-8"))
            except (ValueError, OSError):
                continue
    return bundles
