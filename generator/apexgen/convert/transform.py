"""SDR's metadata transformers and the recomposition finalizer: source components -> metadata-format files.

``standard`` copies content and -meta.xml to their metadata-format paths; ``staticResource`` zips a folder
resource; ``decomposed``/``nonDecomposed`` merge children (CustomObject fields, CustomLabels labels, ...) into
one parent file, written the way SDR writes it (sdr_xml.build). The result maps each output path to its bytes or
to the source file it copies, with the source files it came from. Ported from SDR 12.37.2 src/convert
(Apache-2.0, sdr/LICENSE-source-deploy-retrieve.txt).
"""

from __future__ import annotations

import io
import os
import re
import time

from apexgen.convert import sdr_xml
from apexgen.convert.collation import locale_key
from apexgen.convert.components import META_SUFFIX, ConvertError, SourceComponent, Tree, base_name, ext_name, trim_until
from apexgen.convert.registry import MetadataType, Registry

ARCHIVE_TYPES = {"application/zip", "application/x-zip-compressed", "application/jar"}
_ORIGINAL_SUFFIX = re.compile(r"(.)([a-zA-Z]+)(-meta.xml)$")
_SUPPORTED_TRANSFORMERS = (None, "standard", "decomposed", "nonDecomposed", "staticResource")


class Output:
    """One file of the metadata-format tree: a copy of ``source`` or generated ``data``."""

    __slots__ = ("sources", "source", "data")

    def __init__(self, sources: list[str], source: str | None = None, data: bytes | None = None):
        self.sources, self.source, self.data = sources, source, data

    def read(self, tree: Tree) -> bytes:
        return self.data if self.data is not None else tree.read_bytes(self.source or "")


class _Recomposition:
    """A parent and the children to merge into its file."""

    def __init__(self, component: SourceComponent):
        self.component = component
        self.children: list[SourceComponent] = []


class Converter:
    def __init__(self, registry: Registry, tree: Tree):
        self.registry, self.tree = registry, tree
        self.outputs: dict[str, Output] = {}
        self.recompositions: dict[str, _Recomposition] = {}
        # (metadata-format path, the source sf writes, the source it writes over): sf writes each file in turn
        # and keeps the last, so a later package directory wins; apexgen does the same, and says so.
        self.overridden: list[tuple[str, str, str]] = []

    def convert(self, components: list[SourceComponent]) -> dict[str, Output]:
        for component in components:
            if component.type.get("isAddressable") is False:
                continue
            owner = component.parent.type if component.parent else component.type
            transformer = (owner.get("strategies") or {}).get("transformer")
            if transformer not in _SUPPORTED_TRANSFORMERS:
                raise ConvertError(
                    f"{component.xml or component.content}: {owner['name']} (registry transformer "
                    f"{transformer!r}) is not converted by apexgen yet"
                )
            if transformer in ("decomposed", "nonDecomposed"):
                self._collect(component)
            elif transformer == "staticResource":
                self._static_resource(component)
            else:
                self._standard(component)
        for state in self.recompositions.values():
            self._recompose(state)
        return self.outputs

    def _add(self, path: str, output: Output) -> None:
        if os.path.isabs(path) or ".." in path.split("/"):  # SDR would write it outside the output folder
            raise ConvertError(f"{output.sources[0]}: not in a folder of its type, so it has no place in the output")
        existing = self.outputs.get(path)
        if existing is not None and existing.read(self.tree) != output.read(self.tree):
            self.overridden.append((path, output.sources[0], existing.sources[0]))
            self.outputs[path] = output
        elif existing is None:
            self.outputs[path] = output

    # ---- standard: copy content and -meta.xml ----

    def _standard(self, component: SourceComponent) -> None:
        for path in component.walk_content(self.tree):
            self._add(self._relative_path(component, path), Output([path], source=path))
        if component.xml:
            self._add(self._xml_destination(component, component.xml), Output([component.xml], source=component.xml))

    def _relative_path(self, component: SourceComponent, path: str) -> str:
        """SDR's calculateRelativePath for the metadata format."""
        mdtype, parent_type = component.type, component.parent_type
        directory = mdtype["directoryName"]
        if (
            not mdtype.get("suffix")
            or mdtype.get("inFolder")
            or isinstance(mdtype.get("folderContentType"), str)
            or mdtype["id"] in ("digitalexperiencebundle", "digitalexperience", "uibundle")
        ):
            return trim_until(path, directory, until_last=True)
        if mdtype.get("folderType"):
            if parent_type and parent_type.get("folderType") and parent_type["folderType"] != mdtype["id"]:
                return trim_until(path, parent_type["directoryName"])
            return f"{directory}/{component.full_name.split('/')[0]}/{os.path.basename(path)}"
        return f"{directory}/{os.path.basename(path)}"

    def _xml_destination(self, component: SourceComponent, xml: str) -> str:
        mdtype = component.type
        suffix, legacy = mdtype.get("suffix"), mdtype.get("legacySuffix")
        destination = self._relative_path(component, xml)
        if not component.content and mdtype["id"] != "digitalexperiencebundle":
            if mdtype.get("folderContentType"):
                destination = destination.replace(f".{suffix or ''}", "", 1)
            elif META_SUFFIX in destination:
                destination = destination[: destination.rindex(META_SUFFIX)]
        elif suffix:
            if mdtype["name"] == "Document" and component.content:
                destination = re.sub(
                    "." + re.escape(suffix) + "-meta.xml$",
                    f".{ext_name(component.content)}{META_SUFFIX}",
                    destination,
                    count=1,
                )
            else:
                destination = _ORIGINAL_SUFFIX.sub(f".{suffix}{META_SUFFIX}", destination, count=1)
        if legacy and suffix and legacy in destination:
            destination = destination.replace(legacy, suffix, 1)
        return destination

    # ---- static resources: a folder becomes a zip ----

    def _static_resource(self, component: SourceComponent) -> None:
        content, xml, mdtype = component.content, component.xml, component.type
        if not content or not xml:
            raise ConvertError(f"{xml or content}: a {mdtype['name']} needs both its -meta.xml and its content")
        target = f"{mdtype['directoryName']}/{base_name(content)}.{mdtype.get('suffix') or ''}"
        if self.tree.is_directory(content):
            self._check_archive(xml)
            files = component.walk_content(self.tree)
            if not files:
                raise ConvertError(f"{content}: the static resource folder holds no file (after .forceignore)")
            self._add(target, Output([content], data=_zip_folder(content, files, self.tree)))
        else:
            self._add(target, Output([content], source=content))
        self._add(f"{mdtype['directoryName']}/{os.path.basename(xml)}", Output([xml], source=xml))

    def _check_archive(self, xml: str) -> None:
        resource = self.tree.parse_xml(xml).get("StaticResource")
        if not isinstance(resource, dict) or "contentType" not in resource:
            raise ConvertError(f"{xml}: a static resource needs a <contentType>")
        if resource["contentType"] not in ARCHIVE_TYPES:
            raise ConvertError(
                f"{xml}: the resource is a folder, so its <contentType> must be an archive "
                f"type ({', '.join(sorted(ARCHIVE_TYPES))}), not {resource['contentType']!r}"
            )

    # ---- decomposed and non-decomposed types: children merged into the parent file ----

    def _collect(self, component: SourceComponent) -> None:
        if component.parent:
            key = component.parent.key
            state = self.recompositions.setdefault(key, _Recomposition(component.parent))
            state.children.append(component)
            return
        state = self.recompositions.setdefault(component.key, _Recomposition(component))
        if component.xml and not state.component.xml:
            state.component = component
        state.children.extend(component.children(self.tree))

    def _recompose(self, state: _Recomposition) -> None:
        parent = state.component
        strategies = parent.type.get("strategies") or {}
        start_empty = strategies.get("recomposition") == "startEmpty"
        # SDR 12 keeps a child that two files define twice (SDR 13 keeps the first only); so does apexgen.
        children = state.children
        groups: dict[str, list[tuple[str, sdr_xml.XmlObject]]] = {}
        for child in children:
            contents = self._child_xml(child)
            unique = _unique_value(contents, child.type.get("uniqueIdElement"))
            element = child.type.get("xmlElementName") or child.type["directoryName"]
            groups.setdefault(element, []).append((unique, contents))
        body: sdr_xml.XmlObject = {sdr_xml.ATTR + "xmlns": "http://soap.sforce.com/2006/04/metadata"}
        if not start_empty:
            body.update(_unwrap(parent.type["name"], self.tree.parse_xml(parent.xml) if parent.xml else {}))
        for group in sorted(groups):
            body[group] = [contents for _, contents in sorted(groups[group], key=lambda item: locale_key(item[0]))]
        path = f"{parent.type['directoryName']}/{parent.full_name}.{parent.type.get('suffix') or ''}"
        sources = [c.xml for c in [parent, *children] if c.xml]
        self._add(path, Output(sorted(set(sources)), data=sdr_xml.build({parent.type["name"]: body}).encode("utf-8")))

    def _child_xml(self, child: SourceComponent) -> sdr_xml.XmlObject:
        parsed = self.tree.parse_xml(child.xml) if child.xml else {}
        parent = child.parent
        if parent and (parent.type.get("strategies") or {}).get("transformer") == "nonDecomposed":
            root = _unwrap(parent.type["name"], parsed)
            element = child.type.get("xmlElementName") or child.type["directoryName"]
            items = root.get(element, [])
            items = items if isinstance(items, list) else [items]
            unique = child.type.get("uniqueIdElement")
            match: sdr_xml.XmlObject | None = next(
                (i for i in items if isinstance(i, dict) and i.get(unique) == child.name), None
            )
            return match if match is not None else root
        return _unwrap(child.type["name"], parsed)


def _unwrap(type_name: str, parsed: sdr_xml.XmlObject) -> sdr_xml.XmlObject:
    inner = parsed.get(type_name, parsed)
    if not isinstance(inner, dict):
        return {}
    return {k: v for k, v in inner.items() if k != sdr_xml.ATTR + "xmlns"}


def _unique_value(contents: sdr_xml.XmlObject, unique: str | None) -> str:
    for key in (unique, "fullName", "name"):
        value = contents.get(key) if key else None
        if isinstance(value, str):
            return value
    return ""


def _zip_folder(folder: str, files: list[str], tree: Tree) -> bytes:
    """The folder as SDR zips it (JSZip adds an entry for each folder before its first file)."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        folders: set[str] = set()
        for path in files:
            name = os.path.relpath(path, folder).replace(os.sep, "/")
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                entry = "/".join(parts[:depth]) + "/"
                if entry not in folders:
                    folders.add(entry)
                    archive.writestr(zipfile.ZipInfo(entry), b"")
            archive.writestr(
                zipfile.ZipInfo(name, time.localtime(os.path.getmtime(path))[:6]),
                tree.read_bytes(path),
                zipfile.ZIP_DEFLATED,
                9,
            )
    return buffer.getvalue()


def package_members(components: list[SourceComponent], registry: Registry, tree: Tree) -> dict[str, list[str]]:
    """SDR's ComponentSet.getObject: package.xml members per type, sorted as JavaScript sorts strings."""
    groups: dict[str, list[SourceComponent]] = {}
    for component in components:
        groups.setdefault(component.key, []).append(component)
    members: dict[str, set[str]] = {}

    def add(mdtype: MetadataType, full_name: str) -> None:
        if mdtype.get("isAddressable") is not False:
            members.setdefault(mdtype["name"], set()).add(full_name)

    for key, group in groups.items():
        type_id, _, full_name = key.partition("#")
        mdtype = registry.type_by_name(type_id)
        for component in group:
            for child in component.children(tree):
                add(child.type, child.full_name)
        child_types = ((mdtype.get("children") or {}).get("types") or {}).values()
        if (
            (mdtype.get("strategies") or {}).get("transformer") == "decomposed"
            and any(not t.get("unaddressableWithoutParent") for t in child_types)
            and any(t.get("isAddressable") is not False for t in child_types)
        ):
            parent = next((c for c in group if c.full_name == full_name), None)
            if parent and parent.xml and not _has_real_values(mdtype, tree.parse_xml(parent.xml)):
                continue
        folder_content = mdtype.get("folderContentType")
        manifest_type = registry.type_by_name(folder_content) if folder_content else mdtype
        add(manifest_type, _manifest_name(registry, mdtype, full_name))
    ordered = sorted(members.items(), key=lambda item: _js_order(item[0]))
    return {name: sorted(names, key=_js_order) for name, names in ordered}


def _has_real_values(mdtype: MetadataType, parsed: sdr_xml.XmlObject) -> bool:
    return len(parsed.get(mdtype["name"]) or {}) > 1


def _manifest_name(registry: Registry, mdtype: MetadataType, full_name: str) -> str:
    if mdtype["name"] in ("DashboardFolder", "ReportFolder", "EmailTemplateFolder") and not full_name.endswith("/"):
        return full_name + "/"
    parent = registry.parent_type(mdtype["name"])
    if parent and (parent.get("strategies") or {}).get("recomposition") == "startEmpty" and "." in full_name:
        return full_name.split(".")[1]
    return full_name


def _js_order(text: str) -> bytes:
    """JavaScript's default sort compares UTF-16 code units."""
    return text.encode("utf-16-be")


def package_xml(members: dict[str, list[str]], api_version: str, package_name: str | None = None) -> str:
    """SDR's getPackageXml (fast-xml-builder, 4 spaces; no numeric-reference fix-up there). With
    ``package_name`` (1GP, sf's --package-name), its <fullName>: a deploy adds the components to that package
    of the packaging org. SDR writes it last, after <version>, out of the XSD's order; the Metadata API takes
    it there, and apexgen writes what sf writes."""
    body: dict[str, object] = {
        "types": [{"members": names, "name": name} for name, names in members.items()],
        "version": api_version,
        sdr_xml.ATTR + "xmlns": "http://soap.sforce.com/2006/04/metadata",
    }
    if package_name:
        body["fullName"] = package_name
    return sdr_xml.build({"Package": body}, restore_references=False)
