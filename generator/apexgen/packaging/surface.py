"""The released surface of a managed package, recorded in the repository and held against each new version.

A released managed package can never take back a ``global`` Apex member, nor a public (``@api``) property or a
Lightning target of an exposed component (ISVforce Guide, "Components Automatically Added to Packages" and
"Delete Components from Second-Generation Managed Packages"; LWC Developer Guide, "Add Components to Managed
Packages"). The platform refuses such a version late (at upload or install), or subscribers' Flows and pages
break. So when a version is released, apexgen records that surface in ``.apexgen/released/<M.m.p>.json``
(committed with the project), and a later version whose surface drops or changes any recorded member is refused
before it is built; additions are always allowed.

The surface is read from the package directory's source: every ``global`` declaration of every Apex class (found
by a small scanner over the code without comments and strings, which is enough for declarations), each LWC
bundle's ``@api`` members, and its targets when ``isExposed`` is true.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from apexgen.errors import UsageError
from apexgen.generate.manifest import atomic_write
from apexgen.project.containment import outside_reason

RELEASED_DIR = ".apexgen/released"
BUILT_DIR = ".apexgen/built"
SURFACE_FORMAT = 1
META_NS = "{http://soap.sforce.com/2006/04/metadata}"

_ANNOTATION = re.compile(r"@\w+(\s*\([^()]*\))?")
_CLASS = re.compile(r"\b(class|interface|enum)\s+(\w+)", re.IGNORECASE)
_CALL = re.compile(r"(\w+)\s*\(([^()]*)\)")
_API = re.compile(r"@api\s+(?:(?:get|set|static|async)\s+)*(\w+)")


def strip_code(source: str) -> str:
    """The source with comments removed and string literals emptied ('' "" ``), line breaks kept."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        two = source[i : i + 2]
        if two == "//":
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif two == "/*":
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        elif source[i] in "'\"`":
            quote, i = source[i], i + 1
            while i < n and source[i] != quote:
                i += 2 if source[i] == "\\" else 1
            i += 1
            out.append(quote * 2)
        else:
            out.append(source[i])
            i += 1
    return "".join(out)


def _declaration(head: str) -> str:
    """A declaration without its annotations, on one line, as ``global static X run(List<Y> y)``."""
    text = " ".join(_ANNOTATION.sub(" ", head).split())
    text = re.sub(r"\s*=.*$", "", text) if "(" not in text.split("=")[0] else text
    return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text))


def _member_key(declaration: str) -> str:
    """The name a global member is known by: ``run(List<Request>)`` for a method (overloads differ by parameter
    types), the identifier for a class or a variable."""
    kind = _CLASS.search(declaration)
    if kind:
        return kind.group(2)
    call = _CALL.search(declaration)
    if call:
        params = [" ".join(p.split()[:-1]) for p in call.group(2).split(",") if p.strip()]
        return f"{call.group(1)}({', '.join(params)})"
    return declaration.split()[-1]


def apex_globals(source: str) -> dict[str, str]:
    """Every global declaration of one class file: ``Outer.Inner.member`` -> its declaration."""
    found: dict[str, str] = {}
    owners: list[tuple[str, int]] = []  # enclosing classes and the depth their body opened at
    depth, head = 0, ""
    for char in strip_code(source):
        if char not in "{};":
            head += char
            continue
        declaration = _declaration(head)
        head = ""
        if char == "}":
            if owners and owners[-1][1] == depth:
                owners.pop()
            depth -= 1
            continue
        is_class = char == "{" and _CLASS.search(declaration) is not None
        if re.match(r"global\b", declaration, re.IGNORECASE):
            key = _member_key(declaration)
            found[".".join([name for name, _ in owners] + [key])] = declaration
        if char == "{":
            depth += 1
            if is_class:
                owners.append((_member_key(declaration), depth))
    return found


@dataclass
class Surface:
    """Global Apex members (qualified name -> declaration) and exposed components (@api members, targets)."""

    apex: dict[str, str] = field(default_factory=dict)
    components: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"apex": dict(sorted(self.apex.items())), "components": dict(sorted(self.components.items()))}


def _component(bundle: Path) -> dict[str, list[str]] | None:
    script = bundle / f"{bundle.name}.js"
    meta = bundle / f"{bundle.name}.js-meta.xml"
    api = sorted(set(_API.findall(strip_code(script.read_text(encoding="utf-8"))))) if script.is_file() else []
    targets: list[str] = []
    if meta.is_file():
        try:
            document = etree.parse(str(meta), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            raise UsageError(f"{meta}: not well-formed XML ({exc})") from exc
        exposed = document.findtext(f"{META_NS}isExposed") == "true"
        if exposed:
            targets = sorted(t.text.strip() for t in document.iter(f"{META_NS}target") if t.text)
    if not api and not targets:
        return None  # nothing a subscriber or a page can depend on
    return {"api": api, "targets": targets}


def read_surface(package_dir: Path) -> Surface:
    """The surface of the source under ``package_dir`` (Jest folders and hidden folders left out)."""
    surface = Surface()
    for folder, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__tests__")
        here = Path(folder)
        for name in sorted(files):
            if name.endswith(".cls"):
                for key, declaration in apex_globals((here / name).read_text(encoding="utf-8")).items():
                    surface.apex[key] = declaration
        if here.parent.name == "lwc":
            component = _component(here)
            if component is not None:
                surface.components[here.name] = component
    return surface


def surface_changes(released: Surface, candidate: Surface) -> list[str]:
    """Each released member the candidate drops or changes, named; an empty list when it keeps them all."""
    changes = []
    for key, declaration in sorted(released.apex.items()):
        now = candidate.apex.get(key)
        if now is None:
            changes.append(f"global {key} was removed (released as: {declaration})")
        elif now != declaration:
            changes.append(f"global {key} changed: released as: {declaration}; now: {now}")
    for name, component in sorted(released.components.items()):
        now_component = candidate.components.get(name, {"api": [], "targets": []})
        for prop in component["api"]:
            if prop not in now_component["api"]:
                changes.append(f"component {name}: @api {prop} was removed")
        for target in component["targets"]:
            if target not in now_component["targets"]:
                changes.append(f"component {name}: target {target} was removed")
    return changes


def _path(root: Path, folder: str, name: str) -> Path:
    relative = f"{folder}/{name}.json"
    reason = outside_reason(root, relative)
    if reason:
        raise UsageError(f"{relative}: {reason}")
    return root / relative


def write_surface(root: Path, folder: str, name: str, surface: Surface, about: dict[str, Any]) -> str:
    """Write the record ``<folder>/<name>.json`` (whole, flushed, then renamed over any old one); its relative path."""
    path = _path(root, folder, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"format": SURFACE_FORMAT, **about, **surface.to_json()}
    atomic_write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return f"{folder}/{name}.json"


def read_recorded(root: Path, folder: str, name: str) -> Surface | None:
    """The surface recorded as ``<folder>/<name>.json``, or None when there is none."""
    path = _path(root, folder, name)
    if not path.is_file():
        return None
    relative = f"{folder}/{name}.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        apex, components = document["apex"], document["components"]
        if not isinstance(apex, dict) or not isinstance(components, dict):
            raise TypeError("apex and components must be objects")
        return Surface(
            {str(k): str(v) for k, v in apex.items()},
            {str(k): {"api": list(v["api"]), "targets": list(v["targets"])} for k, v in components.items()},
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{relative}: not a recorded surface apexgen can read ({exc})") from exc


def check_against_release(root: Path, package_dir: Path, ancestor: str, what: str) -> Surface:
    """The candidate's surface, after checking it keeps every member ancestor ``M.m.p`` released; UsageError
    naming each dropped or changed member, or the missing record."""
    released = read_recorded(root, RELEASED_DIR, ancestor)
    if released is None:
        raise UsageError(
            f"{RELEASED_DIR}/{ancestor}.json: {what} descends from released version {ancestor}, whose surface "
            "is not recorded, so apexgen cannot tell whether this version keeps it; commit the record made when "
            f"{ancestor} was released, or record it from that version's source (apexgen package surface record "
            f"{ancestor} run at its commit)"
        )
    candidate = read_surface(package_dir)
    changes = surface_changes(released, candidate)
    if changes:
        raise UsageError(
            f"{what} drops or changes what released version {ancestor} made public, which a managed package can "
            f"never take back ({len(changes)}): " + "; ".join(changes)
        )
    return candidate


def record_built(root: Path, subscriber_version_id: str, surface: Surface, version_number: str) -> str:
    """Keep the surface a 2GP version was built from (``.apexgen/built/<04t>.json``) until it is promoted."""
    return write_surface(root, BUILT_DIR, subscriber_version_id, surface, {"version": version_number})


def record_release(root: Path, package_dir: Path, subscriber_version_id: str, version_number: str) -> tuple[str, bool]:
    """Record the surface of released version ``M.m.p[-build]`` in ``.apexgen/released/<M.m.p>.json``: the surface
    kept when the version was built, else the package directory's as it is now. (path, whether it was kept)."""
    number = version_number.split("-")[0]
    built = read_recorded(root, BUILT_DIR, subscriber_version_id)
    surface = built if built is not None else read_surface(package_dir)
    about = {"version": number, "subscriberPackageVersionId": subscriber_version_id}
    path = write_surface(root, RELEASED_DIR, number, surface, about)
    if built is not None:
        _path(root, BUILT_DIR, subscriber_version_id).unlink()
    return path, built is not None
