"""What apexgen knows of the standard fields of Case, Account, Contact, Lead and Opportunity.

One table (``standard_fields.json`` beside this module) with each field's type, length, picklist values,
whether it can be written, and whether a permission set can grant it (``permissionable``);
its ``sources`` name the documents (Salesforce Field Reference and Object Reference, API version
``API_VERSION``; a real org's describe results). ``record`` checks the fields a prompt writes against it at
generate time, ``check`` reports its findings on record writes from the same table, and the permission set
grants only the fields it marks permissionable. Custom fields are read into the same shape
from the project's ``objects/`` (``custom_field``), so every check asks one question: ``FieldInfo``.

Fields the table does not list are left to ``apexgen check --deep`` (apex-ls knows every standard field's
name and type); picklist values may differ in an org, so the generated job checks them again at run time.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

# Salesforce's describe type names (DescribeFieldResult.getType), lower case as the API spells them.
TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "url", "picklist"})
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int"})

# Custom field metadata <type> -> describe type (Metadata API CustomField; formula fields have <formula>).
_CUSTOM_TYPES = {
    "Text": "string",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Html": "textarea",
    "Picklist": "picklist",
    "MultiselectPicklist": "multipicklist",
    "Number": "double",
    "Currency": "currency",
    "Percent": "percent",
    "Checkbox": "boolean",
    "Date": "date",
    "DateTime": "datetime",
    "Email": "email",
    "Phone": "phone",
    "Url": "url",
    "Lookup": "reference",
    "MasterDetail": "reference",
    "AutoNumber": "string",
    "Summary": "double",
}
# A required custom field, or a master-detail one (always required): no permission set can grant it, and the org
# refuses a deploy that tries ("You cannot deploy to a required field: <Object.Field>", as Gearset's and Zuora's
# deploy guides quote it; Salesforce's permission-set skill for agents, forcedotcom/afv-library, says the same).
_REQUIRED_CUSTOM = re.compile(r"<required>true</required>|<type>MasterDetail</type>")
# A plain text area holds 255 characters (Metadata API: TextArea has no <length>).
_TEXT_AREA_LENGTH = 255


@dataclass(frozen=True)
class FieldInfo:
    """A field as a write needs to know it."""

    object: str
    name: str
    type: str  # describe type: string, textarea, picklist, currency, boolean, date, datetime, reference, ...
    length: int | None  # characters, for text and picklist fields
    createable: bool
    updateable: bool
    calculated: bool = False  # a formula or roll-up: never written
    # Whether a permission set's fieldPermissions may name the field (describe's permissionable); one that may not
    # has no field-level security of its own: access to its object governs it.
    permissionable: bool = True
    picklist_values: tuple[str, ...] | None = None  # None: not known before run time
    custom: bool = False

    @property
    def qualified(self) -> str:
        return f"{self.object}.{self.name}"

    @property
    def read_only(self) -> bool:
        return self.calculated or not self.updateable


@functools.cache
def _table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("apexgen.spec").joinpath("standard_fields.json").read_text("utf-8")
    )
    return data


def api_version() -> str:
    """The API version the table describes."""
    return str(_table()["api_version"])


def sources() -> dict[str, str]:
    """Where each column of the table comes from."""
    return dict(_table()["sources"])


def standard_objects() -> list[str]:
    """The objects the table describes."""
    return sorted(_table()["objects"])


def standard_fields_of(obj: str) -> list[str]:
    """The API names of the fields the table lists for ``obj`` (any case); none for an object it does not."""
    fields: dict[str, Any] = next((f for o, f in _table()["objects"].items() if o.lower() == obj.lower()), {})
    return sorted(fields)


def standard_field(obj: str, name: str) -> FieldInfo | None:
    """The table's entry for ``obj.name`` (API names, any case), or None when the table does not list it."""
    fields = next((f for o, f in _table()["objects"].items() if o.lower() == obj.lower()), None)
    if fields is None:
        return None
    found = next(((n, f) for n, f in fields.items() if n.lower() == name.lower()), None)
    if found is None:
        return None
    field_name, entry = found
    values = entry.get("picklistValues")
    return FieldInfo(
        object=next(o for o in _table()["objects"] if o.lower() == obj.lower()),
        name=field_name,
        type=entry["type"],
        length=entry.get("length"),
        createable=entry["createable"],
        updateable=entry["updateable"],
        calculated=entry.get("calculated", False),
        permissionable=entry["permissionable"],
        picklist_values=tuple(values) if values is not None else None,
    )


def permissionable(obj: str, name: str) -> bool | None:
    """Whether a permission set may grant ``obj.name`` (API names, any case): the table's fact for the fields it
    lists, False for the fields of every object none may grant (ids, audit fields, owner, name), None when the
    table does not know (a custom field, or a standard field it does not list)."""
    info = standard_field(obj, name)
    if info is not None:
        return info.permissionable
    if "__" not in name and name.lower() in {f.lower() for f in _table()["not_permissionable_on_every_object"]}:
        return False
    return None


def required_custom_field(content: str) -> bool:
    """Whether the ``.field-meta.xml`` text ``content`` is of a required or master-detail custom field, which no
    permission set can grant."""
    return bool(_REQUIRED_CUSTOM.search(content))


def required_custom_field_file(path: Path) -> bool:
    """``required_custom_field`` of the ``.field-meta.xml`` file at ``path``; False when it cannot be read."""
    try:
        return required_custom_field(path.read_text("utf-8", errors="replace"))
    except OSError:
        return False


def custom_field(obj: str, path: Path) -> FieldInfo | None:
    """A custom field read from its ``.field-meta.xml``; None when the file does not say its type."""
    from lxml import etree

    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (etree.XMLSyntaxError, OSError):
        return None

    def text(tag: str) -> str | None:
        found = root.find(f"{{*}}{tag}")
        return found.text.strip() if found is not None and found.text else None

    kind = text("type")
    if kind not in _CUSTOM_TYPES:
        return None
    calculated = text("formula") is not None or kind in ("Summary", "AutoNumber")
    length_text = text("length")
    length = int(length_text) if length_text and length_text.isdigit() else None
    if kind == "TextArea":
        length = _TEXT_AREA_LENGTH
    values: tuple[str, ...] | None = None
    if kind in ("Picklist", "MultiselectPicklist"):
        # a value set of its own lists its values; a global value set lives elsewhere: run time checks it
        listed = root.findall("{*}valueSet/{*}valueSetDefinition/{*}value/{*}fullName")
        values = tuple(v.text.strip() for v in listed if v.text) if listed else None
    return FieldInfo(
        object=obj,
        name=path.name.removesuffix(".field-meta.xml"),
        type=_CUSTOM_TYPES[kind],
        length=length,
        createable=not calculated,
        updateable=not calculated,
        calculated=calculated,
        picklist_values=values,
        custom=True,
    )
