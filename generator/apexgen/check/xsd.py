"""The Salesforce Metadata XSD, built from the Metadata API WSDL that simple-salesforce ships.

simple-salesforce carries ``metadata.wsdl`` (Metadata API v63.0 in 1.12.10). Its embedded schema
describes every metadata type, but only as complex types, and in the Metadata API's wire format. The
XSD built here (1) adds a global element for each complex type, so ``<ApexClass>``, ``<Flow>``,
``<Package>``... can be document roots, and (2) patches LightningComponentBundle for source format:
in a ``.js-meta.xml`` ``targetConfigs`` is nested XML (base64Binary on the wire) and ``<targets>``
usually comes before it, so the bundle's children become an ``xsd:all`` with ``targetConfigs`` of
any type. Building takes about a third of a second, so the result is cached, keyed by the WSDL and by
this module's code.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import os
import tempfile
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from apexgen.paths import user_cache_dir

XSD_NS = "http://www.w3.org/2001/XMLSchema"
METADATA_NS = "http://soap.sforce.com/2006/04/metadata"


def builder_code() -> bytes:
    """The code that builds the XSD (this module): a change to it must build the XSD again."""
    return resources.files("apexgen.check").joinpath("xsd.py").read_bytes()


def xsd_cache_path() -> Path:
    """Where the XSD is cached: under a digest of the WSDL it is built from and of the code that builds it,
    so a new simple-salesforce or a new apexgen builds it again."""
    version = metadata.version("simple-salesforce")
    return user_cache_dir() / "metadata-xsd" / f"simple-salesforce-{version}-{_build_key()}" / "metadata.xsd"


@cache
def _build_key() -> str:
    return hashlib.sha256(metadata_wsdl_path().read_bytes() + b"\0" + builder_code()).hexdigest()[:16]


def build_metadata_xsd(wsdl: bytes) -> bytes:
    """The standalone XSD (bytes) for the schema embedded in the Metadata API ``wsdl``."""
    from lxml import etree

    wsdl_schema = etree.fromstring(wsdl).find(f".//{{{XSD_NS}}}schema")
    if wsdl_schema is None:
        raise ValueError("the Metadata API WSDL holds no XML schema")
    schema = etree.Element(
        f"{{{XSD_NS}}}schema",
        nsmap={"xsd": XSD_NS, "tns": METADATA_NS},
        attrib={str(k): str(v) for k, v in wsdl_schema.attrib.items()},
    )
    for child in wsdl_schema:
        schema.append(copy.deepcopy(child))
    declared = {element.get("name") for element in schema.findall(f"{{{XSD_NS}}}element")}
    for complex_type in schema.findall(f"{{{XSD_NS}}}complexType"):
        name = complex_type.get("name")
        if name and name not in declared:
            etree.SubElement(schema, f"{{{XSD_NS}}}element", name=name, type=f"tns:{name}")
    _patch_lightning_component_bundle(schema)
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8")


def _patch_lightning_component_bundle(schema: Any) -> None:
    from lxml import etree

    bundle = schema.find(f"{{{XSD_NS}}}complexType[@name='LightningComponentBundle']")
    children = [copy.deepcopy(element) for element in bundle.iter(f"{{{XSD_NS}}}element")]
    for child in list(bundle):
        bundle.remove(child)
    any_order = etree.SubElement(bundle, f"{{{XSD_NS}}}all")
    # fullName comes from the Metadata base type, which the xsd:all replaces.
    etree.SubElement(any_order, f"{{{XSD_NS}}}element", name="fullName", minOccurs="0", type="xsd:string")
    for element in children:
        if element.get("name") == "targetConfigs":
            element.set("type", "xsd:anyType")
        any_order.append(element)


def metadata_wsdl_path() -> Path:
    """The Metadata API WSDL simple-salesforce ships, found without importing it (which costs 0.25 s)."""
    spec = importlib.util.find_spec("simple_salesforce")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("simple_salesforce is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "metadata.wsdl"


def metadata_xsd_path() -> Path:
    """Path of the built XSD, building and caching it on first use."""
    path = xsd_cache_path()
    if not path.exists():
        wsdl = metadata_wsdl_path().read_bytes()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(build_metadata_xsd(wsdl))
        os.replace(tmp, path)
    return path


@cache
def _metadata_types() -> dict[str, Any]:
    """Every top-level type definition (complex and simple) of the built XSD, by name."""
    from lxml import etree

    schema = etree.parse(str(metadata_xsd_path())).getroot()
    return {
        str(definition.get("name")): definition for definition in schema if definition.tag != f"{{{XSD_NS}}}element"
    }


@cache
def metadata_schema(root_elements: frozenset[str]) -> Any:
    """A compiled ``lxml.etree.XMLSchema`` for documents whose root is one of ``root_elements``.

    Compiling the whole schema (1,400 types) takes half a second; a project's files use a few dozen
    of them. So only the types reachable from those roots are compiled (a root that names no type
    stays undeclared, and is reported as such).
    """
    from lxml import etree

    types = _metadata_types()
    needed: set[str] = set()
    pending = [name for name in root_elements if name in types]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        for node in types[name].iter():
            for reference in (node.get("type"), node.get("base")):
                if reference and reference.startswith("tns:") and reference[4:] in types:
                    pending.append(reference[4:])
    schema = etree.Element(f"{{{XSD_NS}}}schema", nsmap={"xsd": XSD_NS, "tns": METADATA_NS})
    schema.set("targetNamespace", METADATA_NS)
    schema.set("elementFormDefault", "qualified")
    for name in sorted(needed):
        schema.append(copy.deepcopy(types[name]))
    for name in sorted(root_elements & needed):
        etree.SubElement(schema, f"{{{XSD_NS}}}element", name=name, type=f"tns:{name}")
    return etree.XMLSchema(schema)


@cache
def schema_api_version() -> float:
    """The Metadata API version of the WSDL the XSD is built from (its opening comment names it)."""
    import re

    with open(metadata_wsdl_path(), encoding="utf-8") as wsdl:
        head = wsdl.read(500)
    found = re.search(r"Metadata API version (\d+(?:\.\d+)?)", head)
    if found is None:
        raise ValueError("the Metadata API WSDL does not say its version")
    return float(found[1])


def _is_complex(type_name: str | None) -> bool:
    definition = _metadata_types().get(type_name) if type_name else None
    return definition is not None and definition.tag == f"{{{XSD_NS}}}complexType"


@cache
def declared_children(type_name: str) -> dict[str, str | None] | None:
    """The child elements the complex type ``type_name`` (with its base types) declares, in any order,
    each with its own complex type's name (None for a simple or any type); None when it is no complex type."""
    if not _is_complex(type_name):
        return None
    children: dict[str, str | None] = {}
    for node in _metadata_types()[type_name].iter(f"{{{XSD_NS}}}extension", f"{{{XSD_NS}}}element"):
        reference = node.get("base") if node.tag == f"{{{XSD_NS}}}extension" else node.get("type")
        named = reference[4:] if reference and reference.startswith("tns:") else None
        if node.tag == f"{{{XSD_NS}}}extension":
            children.update((declared_children(named) if named else None) or {})
        elif node.get("name"):
            children[node.get("name")] = named if _is_complex(named) else None
    return children
