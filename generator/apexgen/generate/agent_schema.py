"""The input and output ``schema.json`` of an agent action (GenAiFunction), mapped from the ``@InvocableVariable``s
of its Apex class. One mapping serves the generator (over the action class it writes) and the check (which
compares any project's schemas with the classes they describe).

Sources: the GenAiFunction page of the Metadata API Developer Guide (keywords, types, "the maximum text type
length is 250 characters", "at least one output property must have [isUsedByPlanner] as true"), Salesforce's
standard Lightning types (developer.salesforce.com/docs/platform/lightning-types), and the committed schemas of
trailheadapps/coral-cloud (root keyword order, ``unevaluatedProperties``, lists with ``maxItems`` 2000 and
``@apexClassType/c__Class$Inner`` items).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apexgen.generate.invocable import element_type

OBJECT_TYPE = "lightning__objectType"
LIST_TYPE = "lightning__listType"
TEXT_TYPE = "lightning__textType"  # at most 250 characters
LONG_TEXT_TYPE = "lightning__multilineTextType"  # no documented maximum: answers and error messages
LIST_MAX_ITEMS = 2000  # as every list in coral-cloud's schemas
# Apex primitive -> standard Lightning type. Datetime: the Lightning type of a date-time string (the object
# type lightning__dateTimeType carries a time zone apart, which an Apex Datetime does not have).
PRIMITIVE_TYPES = {
    "string": TEXT_TYPE,
    "integer": "lightning__integerType",
    "long": "lightning__integerType",
    "decimal": "lightning__numberType",
    "double": "lightning__numberType",
    "boolean": "lightning__booleanType",
    "date": "lightning__dateType",
    "datetime": "lightning__dateTimeStringType",
    "id": "lightning__recordIdType",
}
USER_INPUT = "copilotAction:isUserInput"
DISPLAYABLE = "copilotAction:isDisplayable"
USED_BY_PLANNER = "copilotAction:isUsedByPlanner"
PII = "lightning:isPII"
TYPE = "lightning:type"


@dataclass(frozen=True)
class SchemaVariable:
    """What the mapping reads of one invocable variable."""

    name: str
    apex_type: str
    label: str | None
    description: str | None
    required: bool = False
    pii: bool = False
    long_text: bool = False  # a String that may pass the text type's 250 characters


# Names an Apex type to its Apex-class Lightning type: "Inner" -> "@apexClassType/c__Outer$Inner".
ClassTypeNamer = Callable[[str], str]


def class_type_namer(top_class: str, inner_classes: set[str], namespace: str) -> ClassTypeNamer:
    """The namer for types used in ``top_class`` (whose inner classes are ``inner_classes``, lower case)."""
    prefix = f"@apexClassType/{namespace or 'c'}__"

    def name(apex_type: str) -> str:
        if apex_type.lower() in inner_classes:
            return f"{prefix}{top_class}${apex_type}"
        return prefix + apex_type.replace(".", "$")

    return name


def lightning_type(apex_type: str, long_text: bool, class_type: ClassTypeNamer) -> dict[str, Any]:
    """The type keywords of a property of Apex type ``apex_type``."""
    item = element_type(apex_type)
    if item is not None:
        return {"maxItems": LIST_MAX_ITEMS, "items": lightning_type(item, long_text, class_type), TYPE: LIST_TYPE}
    primitive = PRIMITIVE_TYPES.get(apex_type.lower())
    if primitive == TEXT_TYPE and long_text:
        return {TYPE: LONG_TEXT_TYPE}
    return {TYPE: primitive or class_type(apex_type)}


def _property(variable: SchemaVariable, class_type: ClassTypeNamer, flags: dict[str, bool]) -> dict[str, Any]:
    described = {"title": variable.label or variable.name}
    if variable.description:
        described["description"] = variable.description
    return {
        **described,
        **lightning_type(variable.apex_type, variable.long_text, class_type),
        PII: variable.pii,
        **flags,
    }


def input_schema(variables: list[SchemaVariable], class_type: ClassTypeNamer) -> dict[str, Any]:
    """The input schema: every variable the agent fills, the required ones listed."""
    required = [v.name for v in variables if v.required]
    document: dict[str, Any] = {"required": required} if required else {}
    document["unevaluatedProperties"] = False
    document["properties"] = {v.name: _property(v, class_type, {USER_INPUT: True}) for v in variables}
    document[TYPE] = OBJECT_TYPE
    return document


def output_schema(variables: list[SchemaVariable], class_type: ClassTypeNamer) -> dict[str, Any]:
    """The output schema: every variable shown to the user and read by the planner."""
    flags = {DISPLAYABLE: True, USED_BY_PLANNER: True}
    return {
        "unevaluatedProperties": False,
        "properties": {v.name: _property(v, class_type, flags) for v in variables},
        TYPE: OBJECT_TYPE,
    }


def schema_text(document: dict[str, Any]) -> str:
    """A schema as written to ``schema.json``: four-space indents as in the schemas Salesforce's tools write."""
    return json.dumps(document, indent=4, ensure_ascii=False) + "\n"
