"""SDR's source adapters (src/resolve/adapters): from a file to the component it belongs to.

One class per ``strategies.adapter`` of the registry: default, matchingContentFile, mixedContent, bundle,
decomposed, digitalExperience. The methods keep SDR's names and order so the two can be read side by side.
Ported from SDR 12.37.2 (Apache-2.0, sdr/LICENSE-source-deploy-retrieve.txt).
"""

from __future__ import annotations

import os

from apexgen.convert.components import (
    META_SUFFIX,
    ConvertError,
    MetadataXml,
    SourceComponent,
    Tree,
    base_name,
    ext_name,
    last_index,
    parent_name,
    parse_folder_metadata_xml,
    parse_metadata_xml,
    parse_nested_full_name,
)
from apexgen.convert.registry import MetadataType, Registry
from apexgen.project.forceignore import ForceIgnore


class DefaultAdapter:
    own_folder = False
    metadata_with_content = False

    def __init__(self, mdtype: MetadataType, registry: Registry, ignore: ForceIgnore, tree: Tree):
        self.type, self.registry, self.ignore, self.tree = mdtype, registry, ignore, tree

    def get_component(self, path: str, resolving_source: bool) -> SourceComponent | None:
        root = self.parse_as_root_metadata_xml(path)
        if not root:
            root_path = self.root_metadata_xml_path(path)
            if root_path:
                root = self.parse_metadata_xml(root_path)
        if root and self.ignore.denies(root.path):
            raise ConvertError(f"{path}: its metadata file {root.path} is listed in .forceignore")
        component = None
        if root:
            folder_type = self.type.get("folderType")
            component = SourceComponent(
                self.calculate_name(root),
                self.type,
                xml=root.path,
                parent_type=self.registry.type_by_name(folder_type) if folder_type else None,
            )
        return self.populate(path, component, resolving_source)

    def parse_metadata_xml(self, path: str) -> MetadataXml | None:
        return parse_metadata_xml(path)

    def parse_as_root_metadata_xml(self, path: str) -> MetadataXml | None:
        meta = self.parse_metadata_xml(path)
        if meta:
            if not self.type.get("strictDirectoryName"):
                return meta
            parent = os.path.dirname(path)
            type_dir = os.path.basename(os.path.dirname(parent) if self.type.get("inFolder") else parent)
            is_root = os.path.basename(parent) == meta.full_name or type_dir == self.type["directoryName"]
            return meta if is_root else None
        folder_meta = parse_folder_metadata_xml(path)
        if folder_meta:
            return folder_meta
        if not self.metadata_with_content:
            return self._parse_as_content_metadata_xml(path)
        return None

    def _parse_as_content_metadata_xml(self, path: str) -> MetadataXml | None:
        """A file in metadata format that is both metadata and content (e.g. tabs/MyTab.tab)."""
        mdtype = self.type
        if mdtype.get("inFolder"):
            full_name = parse_nested_full_name(path, mdtype["directoryName"])
            if full_name and mdtype.get("suffix"):
                return MetadataXml(full_name, mdtype["suffix"], path)
        parts = os.path.dirname(path).split("/")
        allowed = len(parts) - 2 if mdtype.get("folderType") == mdtype["id"] else len(parts) - 1
        if last_index(parts, mdtype["directoryName"]) != allowed:
            return None
        stem, dot, suffix = os.path.basename(path).rpartition(".")
        if dot and stem and mdtype.get("suffix") == suffix:
            return MetadataXml(stem, suffix, path)
        return None

    def calculate_name(self, root: MetadataXml) -> str:
        mdtype = self.type
        folder_content = mdtype.get("folderContentType")
        if folder_content if folder_content is not None else mdtype.get("inFolder"):
            name = parse_nested_full_name(root.path, mdtype["directoryName"])
            if name is None:
                raise ConvertError(f"{root.path}: cannot tell the {mdtype['name']} name from the path")
            return name
        if not mdtype.get("folderType"):
            return root.full_name
        grandparent = self.registry.type_by_name(mdtype["folderType"])
        if grandparent.get("folderType") and grandparent["folderType"] != mdtype["id"]:
            parts = root.path.split("/")
            return f"{parts[parts.index(grandparent['directoryName']) + 1]}.{root.full_name}"
        if grandparent.get("folderType") == mdtype["id"]:
            return root.full_name
        raise ConvertError(f"{root.path}: cannot tell the {mdtype['name']} name from the path")

    def root_metadata_xml_path(self, trigger: str) -> str | None:
        return trigger

    def populate(
        self, trigger: str, component: SourceComponent | None, resolving_source: bool
    ) -> SourceComponent | None:
        return component

    def expected_source_files(self, trigger: str) -> ConvertError:
        return ConvertError(
            f"{trigger}: the {self.type['name']} files that belong with it are missing "
            "(sf expects a content file or folder beside its -meta.xml)"
        )


class MatchingContentAdapter(DefaultAdapter):
    """ApexClass, ApexTrigger, ...: ``Foo.ext`` with ``Foo.ext-meta.xml`` beside it."""

    metadata_with_content = True

    def root_metadata_xml_path(self, trigger: str) -> str | None:
        return trigger + META_SUFFIX

    def populate(
        self, trigger: str, component: SourceComponent | None, resolving_source: bool
    ) -> SourceComponent | None:
        source = None
        if component and component.xml == trigger:
            candidate = trigger[: trigger.rindex(META_SUFFIX)]
            if self.tree.exists(candidate):
                source = candidate
        elif self.registry.type_by_suffix(ext_name(trigger)) is self.type:
            source = trigger
        if not source or component is None:
            raise self.expected_source_files(trigger)
        if self.ignore.denies(source):
            raise ConvertError(f"{source}: listed in .forceignore, but its {self.type['name']} -meta.xml is not")
        component.content = source
        return component


class MixedContentAdapter(DefaultAdapter):
    """StaticResource, Document, ...: a -meta.xml and a content file or folder of any name."""

    metadata_with_content = True

    def root_metadata_xml_path(self, trigger: str) -> str | None:
        if self.own_folder:
            root = self.trim_path_to_content(trigger)
            return self.tree.find("metadataXml", os.path.basename(root), root) if self.tree.is_directory(root) else None
        root = self.trim_path_to_content(trigger)
        folder = os.path.dirname(root)
        return self.tree.find("metadataXml", base_name(root), folder) if self.tree.is_directory(folder) else None

    def populate(
        self, trigger: str, component: SourceComponent | None, resolving_source: bool
    ) -> SourceComponent | None:
        trimmed = self.trim_path_to_content(trigger)
        if component is not None and trimmed == component.xml:
            content = self.tree.find("content", base_name(trimmed), os.path.dirname(trimmed))
        else:
            content = trimmed
        if not content or not self.tree.exists(content):
            raise self.expected_source_files(trigger)
        if component is not None:
            component.content = content
            return component
        meta_suffix = self.type.get("metaFileSuffix")
        return SourceComponent(
            base_name(content), self.type, content=content, xml=meta_suffix and os.path.join(content, meta_suffix)
        )

    def trim_path_to_content(self, path: str) -> str:
        parts = path.split("/")
        offset = 3 if self.type.get("inFolder") else 2
        return "/".join(parts[: last_index(parts, self.type["directoryName"]) + offset])


class BundleAdapter(MixedContentAdapter):
    """LightningComponentBundle, AuraDefinitionBundle, ...: everything in a folder named after the component."""

    own_folder = True

    def populate(
        self, trigger: str, component: SourceComponent | None, resolving_source: bool
    ) -> SourceComponent | None:
        if self.tree.is_directory(trigger) and not self.tree.read_directory(trigger):
            return None
        return super().populate(trigger, component, resolving_source)


class DecomposedAdapter(MixedContentAdapter):
    """CustomObject, Bot, CustomObjectTranslation: a folder with the parent's -meta.xml and one file per child."""

    own_folder = True
    metadata_with_content = False

    def get_component(self, path: str, resolving_source: bool) -> SourceComponent | None:
        root = DefaultAdapter.parse_as_root_metadata_xml(self, path)
        if not root:
            root_path = self.root_metadata_xml_path(path)
            if root_path:
                root = parse_metadata_xml(root_path)
        component = None
        if root:
            name = f"{parent_name(root.path)}/{root.full_name}" if self.type.get("folderType") else root.full_name
            component = SourceComponent(name, self.type, xml=root.path)
        return self.populate(path, component, resolving_source)

    def populate(
        self, trigger: str, component: SourceComponent | None, resolving_source: bool
    ) -> SourceComponent | None:
        meta = parse_metadata_xml(trigger)
        if meta and meta.suffix:
            content = self.trim_path_to_content(trigger)
            children = self.type.get("children") or {}
            child_id = children.get("suffixes", {}).get(meta.suffix)
            if child_id:
                child_type = children["types"][child_id]
                strategy = self.type.get("strategies", {}).get("decomposition")
                addressable = (
                    not child_type.get("unaddressableWithoutParent") and child_type.get("isAddressable") is not False
                )
                if addressable and (strategy in ("folderPerType", "topLevel") or resolving_source):
                    parent = component or SourceComponent(
                        base_name(content) if strategy == "folderPerType" else content, self.type
                    )
                    parent.content = content
                    return SourceComponent(meta.full_name, child_type, xml=trigger, parent=parent)
            elif component is None:
                raise ConvertError(
                    f"{trigger}: not a file {self.type['name']} can hold (unknown child suffix .{meta.suffix})"
                )
            if component is not None:
                component.content = content
        return component


class DigitalExperienceAdapter(BundleAdapter):
    """DigitalExperienceBundle (digitalExperiences/<type>/<site>/) and its DigitalExperience children."""

    def _is_bundle_type(self) -> bool:
        return bool(self.type["id"] == "digitalexperiencebundle")

    def root_metadata_xml_path(self, trigger: str) -> str | None:
        if self._is_bundle_type():
            return self._bundle_metadata_xml_path(trigger)
        return os.path.join(os.path.dirname(trigger), self.type["metaFileSuffix"])

    def trim_path_to_content(self, path: str) -> str:
        if self._is_bundle_type():
            return path
        parts = os.path.dirname(path).split("/")
        if "digitalExperiences" in parts:
            length = parts.index("digitalExperiences") + 1 + 4  # BaseType/SpaceApiName/ContentType/ContentApiName
            if len(parts) > length:
                return "/".join(parts[:length])
        return "/".join(parts)

    def populate(
        self, trigger: str, component: SourceComponent | None, resolving_source: bool
    ) -> SourceComponent | None:
        if self._is_bundle_type() and component is not None:
            return component
        source = super().populate(trigger, component, resolving_source)
        parent_type = self.registry.parent_type(self.type["id"])
        if not source or not parent_type or not source.content:
            raise ConvertError(f"{trigger}: cannot convert this {self.type['name']}")
        parent = SourceComponent(
            self._bundle_name(source.content), parent_type, xml=self._bundle_metadata_xml_path(source.content)
        )
        return SourceComponent(
            f"{parent_name(source.content)}/{base_name(source.content)}",
            self.type,
            content=source.content,
            xml=source.xml,
            parent=parent,
            parent_type=parent_type,
        )

    def parse_metadata_xml(self, path: str) -> MetadataXml | None:
        meta = parse_metadata_xml(path)
        if meta and self._is_bundle_type():
            return MetadataXml(self._bundle_name(path), meta.suffix, meta.path)
        return None

    def _bundle_name(self, content_path: str) -> str:
        bundle_path = self._bundle_metadata_xml_path(content_path)
        return f"{parent_name(os.path.dirname(bundle_path))}/{parent_name(bundle_path)}"

    def _bundle_metadata_xml_path(self, path: str) -> str:
        if self._is_bundle_type() and path.endswith(META_SUFFIX):
            return path
        parts = path.split("/")
        index = last_index(parts, self.type["directoryName"])
        if index == -1 or index + 2 >= len(parts):
            raise ConvertError(
                f"{path}: not inside {self.type['directoryName']}/<type>/<site>/, where sf looks for a "
                "DigitalExperienceBundle"
            )
        owner = self.type if self._is_bundle_type() else self.registry.parent_type(self.type["id"]) or {}
        suffix = owner.get("suffix")
        return f"{'/'.join(parts[: index + 3])}/{parts[index + 2]}.{suffix}{META_SUFFIX}"


ADAPTERS = {
    None: DefaultAdapter,
    "default": DefaultAdapter,
    "matchingContentFile": MatchingContentAdapter,
    "mixedContent": MixedContentAdapter,
    "bundle": BundleAdapter,
    "decomposed": DecomposedAdapter,
    "digitalExperience": DigitalExperienceAdapter,
}


def adapter_for(mdtype: MetadataType, registry: Registry, ignore: ForceIgnore, tree: Tree, path: str) -> DefaultAdapter:
    name = (mdtype.get("strategies") or {}).get("adapter")
    if name not in ADAPTERS:
        raise ConvertError(
            f"{path}: {mdtype['name']} files (registry adapter {name!r}) are not converted by apexgen yet"
        )
    return ADAPTERS[name](mdtype, registry, ignore, tree)
