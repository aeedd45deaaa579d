"""The build org of a 2GP version: the scratch-org definition file, read and sent as sf sends it.

``sf package version create`` (--definition-file, or the package directory's ``definitionFile``) puts into the
VersionInfo zip: the file itself as ``scratch-org-definition.json``; its ``country``, ``edition``, ``language``,
``features``, ``orgPreferences``, ``snapshot``, ``release`` and ``sourceOrg`` in the descriptor (keys matched
case-insensitively); and its ``settings`` as ``settings.zip``, a metadata-format zip of
``settings/<Name>.settings`` files and their package.xml (@salesforce/packaging packageVersionCreate.ts and
copyDescriptorProperties; @salesforce/core ScratchOrgSettingsGenerator).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apexgen.convert.transform import package_xml
from apexgen.errors import UsageError
from apexgen.salesforce import METADATA_NAMESPACE
from apexgen.untrusted import json_loads

# What copyDescriptorProperties copies from the definition file into the descriptor.
DESCRIPTOR_PROPERTIES = (
    "country",
    "edition",
    "language",
    "features",
    "orgPreferences",
    "snapshot",
    "release",
    "sourceOrg",
)
# The editions of @salesforce/schemas project-scratch-def.schema.json (1.10.3).
EDITIONS = (
    "Developer",
    "Enterprise",
    "Group",
    "Partner Developer",
    "Partner Enterprise",
    "Partner Group",
    "Partner Professional",
    "Professional",
)
DEFINITION_ENTRY = "scratch-org-definition.json"
SETTINGS_ENTRY = "settings.zip"


@dataclass
class BuildOrgDefinition:
    """A checked definition file: its bytes, what goes into the descriptor, and its settings (if any)."""

    source: str  # as the user named it, for messages
    content: bytes
    descriptor_properties: dict[str, Any]
    settings: dict[str, dict[str, Any]]

    def settings_zip(self, api_version: str) -> bytes | None:
        """settings.zip as sf builds it, or None without settings."""
        if not self.settings:
            return None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            members = []
            for key, values in self.settings.items():
                type_name = key[0].upper() + key[1:]
                member = type_name.replace("Settings", "")
                members.append(member)
                archive.writestr(f"settings/{member}.settings", _settings_xml(type_name, values))
            archive.writestr("package.xml", package_xml({"Settings": members}, api_version))
        return buffer.getvalue()


def read_definition(path: Path, shown: str) -> BuildOrgDefinition:
    """The definition file at ``path`` (``shown`` names it in messages), checked as sf and its schema check it."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{shown}: the definition file does not exist") from None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read it ({exc.strerror})") from None
    try:
        data = json_loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{shown}: not a JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f'{shown}: must hold a JSON object such as {{"edition": "Developer"}}')
    edition = data.get("edition")
    if edition not in EDITIONS:
        raise UsageError(f"{shown}: edition must be one of {', '.join(EDITIONS)} (it is {edition!r})")
    features = data.get("features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) and f for f in features):
        raise UsageError(f'{shown}: features must be a list of feature names, such as ["Einstein1AIPlatform"]')
    settings = data.get("settings", {})
    if not isinstance(settings, dict) or not all(isinstance(v, dict) for v in settings.values()):
        raise UsageError(
            f'{shown}: settings must map each settings name to its fields, such as {{"einsteinGptSettings": {{...}}}}'
        )
    if settings and data.get("orgPreferences"):
        raise UsageError(
            f"{shown}: You cannot use 'settings' and 'orgPreferences' in your scratch definition file, please "
            "specify one or the other."
        )
    if data.get("objectSettings"):
        raise UsageError(
            f"{shown}: objectSettings is not built by apexgen; create this version with sf package version create"
        )
    properties = {}
    for name in DESCRIPTOR_PROPERTIES:
        key = next((k for k in data if k.lower() == name.lower()), None)
        if key is not None:
            properties[name] = data[key]
    return BuildOrgDefinition(shown, content, properties, settings)


def _settings_xml(type_name: str, values: dict[str, Any]) -> bytes:
    """One settings file. sf's js2xmlparser writes the root without a namespace; apexgen writes the Metadata
    namespace, which the Metadata API XSD asks for and the Metadata API accepts in every settings file it reads."""
    from lxml import etree

    root = etree.Element(f"{{{METADATA_NAMESPACE}}}{type_name}", nsmap={None: METADATA_NAMESPACE})  # type: ignore[dict-item]
    _append(root, values)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _append(parent: Any, values: dict[str, Any]) -> None:
    from lxml import etree

    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            child = etree.SubElement(parent, f"{{{METADATA_NAMESPACE}}}{name}")
            if isinstance(item, dict):
                _append(child, item)
            else:
                child.text = str(item).lower() if isinstance(item, bool) else str(item)
