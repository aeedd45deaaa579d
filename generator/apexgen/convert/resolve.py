"""SDR's MetadataResolver: walk a package directory and resolve its files to source components.

The walk is SDR's getComponentsFromPathRecursive: directories before files, a folder that is a component
(a bundle, a folder static resource) resolved as one, and the walk of a type's folder stopped once a component
is found below it. Files SDR's walk passes over without an error because they do not look like metadata
(jest mocks, READMEs) are reported as ``skipped``; a file that looks like metadata but belongs to no component
(``Foo.cls`` without ``Foo.cls-meta.xml``, which sf drops silently) stops the conversion instead.
Ported from SDR 12.37.2 src/resolve/metadataResolver.ts (Apache-2.0, sdr/LICENSE-source-deploy-retrieve.txt).
"""

from __future__ import annotations

import os

from apexgen.convert.adapters import adapter_for
from apexgen.convert.components import (
    META_SUFFIX,
    ConvertError,
    SourceComponent,
    Tree,
    ext_name,
    parent_name,
    parse_metadata_xml,
)
from apexgen.convert.registry import MetadataType, Registry
from apexgen.project.forceignore import ForceIgnore

# Types SDR's resolver also recognises by a folder anywhere in the path (its parseAsMetadata).
_CONTENT_AS_METADATA = (
    "DigitalExperience",
    "ExperiencePropertyTypeBundle",
    "LightningTypeBundle",
    "ContentTypeBundle",
    "UiWidgetBundle",
)


class Resolver:
    def __init__(self, registry: Registry, tree: Tree, ignore: ForceIgnore):
        self.registry, self.tree, self.ignore = registry, tree, ignore
        self.strict_directories = {t["directoryName"] for t in registry.strict_folder_types}
        self.types_by_path: dict[str, MetadataType | None] = {}
        self.content_as_metadata = [
            registry.type_by_name(n)
            for n in _CONTENT_AS_METADATA
            if n.lower() in registry.types or n.lower() in registry.child_types
        ]

    # ---- the walk ----

    def components(self, directory: str) -> list[SourceComponent]:
        components: list[SourceComponent] = []
        queue: list[str] = []
        passed: set[str | None] = set()
        entries = [os.path.join(directory, e) for e in self.tree.read_directory(directory)]
        entries.sort(key=lambda p: not self.tree.is_directory(p))  # stable: directories first
        for path in entries:
            if path in passed:
                continue
            if self.tree.is_directory(path):
                if self.is_directory_component(path):
                    if not self.tree.read_directory(path):
                        continue
                    component = self.resolve_component(path, True)
                    if component:
                        components.append(component)
                        passed.add(component.xml)
                elif not (self.ignore.denies(path) and "node_modules" in path.split("/")):
                    queue.append(path)
            elif self.is_metadata(path):
                component = self.resolve_component(path, False)
                if component:
                    components.append(component)
                    passed.add(component.content)
                    mdtype = component.type
                    type_dir = parent_name(os.path.dirname(path) if mdtype.get("inFolder") else path)
                    if mdtype.get("strictDirectoryName") and type_dir != mdtype["directoryName"]:
                        return components  # a component's own folder: the rest belongs to it
        for folder in queue:
            components.extend(self.components(folder))
        return components

    def resolve_component(self, path: str, resolving_source: bool) -> SourceComponent | None:
        if self.ignore.denies(path):
            return None
        mdtype = self.resolve_type(path)
        if mdtype:
            adapter = adapter_for(mdtype, self.registry, self.ignore, self.tree, path)
            should_resolve = (
                resolving_source
                or parse_metadata_xml(path) is not None
                or not self.is_content_metadata_xml(path)
                or not adapter.metadata_with_content
            )
            component = adapter.get_component(path, resolving_source) if should_resolve else None
            for found in (component, component and component.parent):
                if found:
                    found.ignore = self.ignore
            return component
        if self._is_probably_package_manifest(path):
            return None
        raise ConvertError(
            f"{path}: no metadata type of the sf CLI's registry matches this file "
            "(check its suffix and folder, or list it in .forceignore)"
        )

    def _is_probably_package_manifest(self, path: str) -> bool:
        if path.endswith(".xml") and not path.endswith(META_SUFFIX):
            if path.endswith("package.xml"):
                return True
            try:
                with open(path, "rb") as handle:
                    return b"<Package xmlns" in handle.read()
            except OSError:
                return False
        return False

    def is_directory_component(self, path: str) -> bool:
        mdtype = self.resolve_type(path)
        if not mdtype:
            return False
        parts = path.split("/")
        offset = 2 if mdtype.get("inFolder") else 1
        directory_name = mdtype["directoryName"]
        index = len(parts) - 1 - parts[::-1].index(directory_name) if directory_name in parts else -1
        return not (
            index == -1
            or len(parts) - offset <= index
            or directory_name in self.tree.read_directory(path)
            or mdtype.get("children")
        )

    def is_metadata(self, path: str) -> bool:
        return bool(
            parse_metadata_xml(path)
            or self.is_content_metadata_xml(path)
            or self._folder_metadata_directory(path)
            or self._content_as_metadata(path)
        )

    # ---- type inference (SDR's resolveType) ----

    def resolve_type(self, path: str) -> MetadataType | None:
        if path not in self.types_by_path:
            self.types_by_path[path] = self._resolve_type(path)
        return self.types_by_path[path]

    def _resolve_type(self, path: str) -> MetadataType | None:
        mdtype = self._type_from_strict_folder(path)
        if not mdtype:
            meta = parse_metadata_xml(path)
            if meta and meta.suffix:
                mdtype = self.registry.type_by_suffix(meta.suffix)
        if not mdtype:
            folder = self._folder_metadata_directory(path)
            if folder:
                mdtype = self.registry.find_type(lambda t: t["directoryName"] == folder and not t.get("inFolder"))
        if not mdtype:
            mdtype = self.registry.type_by_suffix(ext_name(path))
            if mdtype and mdtype.get("strictDirectoryName") is True and mdtype["directoryName"] not in path.split("/"):
                mdtype = None
        if not mdtype:
            mdtype = self._content_as_metadata(path)
        return mdtype

    def is_content_metadata_xml(self, path: str) -> bool:
        suffix_type = self.registry.type_by_suffix(ext_name(path))
        if not suffix_type:
            return False
        return suffix_type["directoryName"] in path.split("/") or bool(self._type_from_strict_folder(path))

    def _folder_metadata_directory(self, path: str) -> str | None:
        name = os.path.basename(path)
        if not name.endswith(META_SUFFIX) or "." in name[: -len(META_SUFFIX)] or not name[: -len(META_SUFFIX)]:
            return None
        folders = path.split("/")[:-1]
        found = None
        for directory in self.registry.folder_content_directories:
            if directory in folders:
                found = directory
        return found

    def _content_as_metadata(self, path: str) -> MetadataType | None:
        if self.tree.is_directory(path):
            return None
        parts = path.split("/")
        return next((t for t in self.content_as_metadata if t["directoryName"] in parts), None)

    def _type_from_strict_folder(self, path: str) -> MetadataType | None:
        parts = path.split("/")
        if self.strict_directories.isdisjoint(parts):
            return None
        parent = parent_name(path)
        for mdtype in self.registry.strict_folder_types:
            if mdtype["directoryName"] not in parts:
                continue
            if mdtype.get("inFolder") and parent == mdtype["directoryName"]:
                continue
            child_types = ((mdtype.get("children") or {}).get("types") or {}).values()
            if (
                (mdtype.get("strategies") or {}).get("adapter") in ("mixedContent", "bundle", "uiBundles")
                or _suffix_matches(mdtype, path)
                or any(_suffix_matches(c, path) for c in child_types)
            ):
                return mdtype
        return None


def _suffix_matches(mdtype: MetadataType, path: str) -> bool:
    return any(
        isinstance(s, str) and (path.endswith(s) or path.endswith(s + META_SUFFIX))
        for s in (mdtype.get("suffix"), mdtype.get("legacySuffix"))
    )
