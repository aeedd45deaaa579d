"""What SDR's resolver produces: source components and the file-system view they share.

Paths are absolute POSIX strings, as SDR keeps them; the name helpers below are SDR's utils/path. Ported from
SDR 12.37.2 (Apache-2.0, sdr/LICENSE-source-deploy-retrieve.txt).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

from apexgen.convert import sdr_xml
from apexgen.convert.registry import MetadataType
from apexgen.errors import UsageError
from apexgen.project.containment import ProjectPaths
from apexgen.project.forceignore import NO_IGNORE, ForceIgnore

META_SUFFIX = "-meta.xml"
_META_XML = re.compile(r"(.+)\.(.+)-meta\.xml")
_FOLDER_META_XML = re.compile(r"(.+)-meta\.xml$")


class ConvertError(UsageError):
    """A file or setting the conversion cannot take; the message names it and the rule (exit 2)."""


class MetadataXml(NamedTuple):
    """A -meta.xml file name taken apart (SDR's MetadataXml)."""

    full_name: str
    suffix: str | None
    path: str


@cache  # asked again and again for the same paths by the walk, the adapters and the children
def parse_metadata_xml(path: str) -> MetadataXml | None:
    match = _META_XML.search(os.path.basename(path))
    return MetadataXml(match.group(1), match.group(2), path) if match else None


def parse_folder_metadata_xml(path: str) -> MetadataXml | None:
    match = _FOLDER_META_XML.search(os.path.basename(path))
    if match and "." not in match.group(1) and len(path.split("/")) > 1:
        return MetadataXml(match.group(1), None, path)
    return None


def base_name(path: str) -> str:
    return os.path.basename(path).split(".")[0]


def ext_name(path: str) -> str:
    return os.path.splitext(path)[1][1:]


def parent_name(path: str) -> str:
    return os.path.basename(os.path.dirname(path))


def last_index(parts: list[str], part: str) -> int:
    return len(parts) - 1 - parts[::-1].index(part) if part in parts else -1


def trim_until(path: str, part: str, until_last: bool = False) -> str:
    parts = path.split("/")
    index = last_index(parts, part) if until_last else (parts.index(part) if part in parts else -1)
    return path if index == -1 else "/".join(parts[index:])


def parse_nested_full_name(path: str, directory_name: str) -> str | None:
    parts = path.split("/")
    if directory_name not in parts:
        return None
    prefix = parts[last_index(parts, directory_name) + 1 :]
    prefix[-1] = parts[-1].replace(META_SUFFIX, "", 1).split(".")[0]
    return "/".join(prefix)


def base_without_suffixes(path: str, mdtype: MetadataType) -> str:
    parts = os.path.basename(path).replace(META_SUFFIX, "", 1).split(".")
    return ".".join(p for p in parts if p != mdtype.get("suffix") and p != mdtype.get("legacySuffix"))


class Tree:
    """The file system as SDR's NodeFSTreeContainer sees it, with directory listings cached."""

    def __init__(self, root: Path, rewrite: Callable[[str, bytes], bytes] | None = None) -> None:
        self.paths = ProjectPaths(root)  # what may be read: the project's own files (one rule with the check)
        self.rewrite = rewrite  # the project's replacements, when they apply
        self.read_directory = lru_cache(maxsize=None)(self._read_directory)
        self.is_directory = lru_cache(maxsize=None)(os.path.isdir)
        self._parsed: dict[str, sdr_xml.XmlObject] = {}
        self._walks: dict[tuple[str, int], list[str]] = {}

    def _read_directory(self, path: str) -> list[str]:
        self.paths.is_folder(path)  # every listing, the resolver's too: never a folder a symlink leads out to
        try:
            return sorted(os.listdir(path))  # libuv's scandir sorts by strcmp
        except OSError as exc:
            raise ConvertError(f"{path}: cannot read the directory ({exc.strerror})") from None

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def find(self, kind: str, name: str, directory: str) -> str | None:
        """SDR's TreeContainer.find: the first entry named ``name`` that is (or is not) a -meta.xml."""
        for entry in self.read_directory(directory):
            is_meta = parse_metadata_xml(entry) is not None
            if base_name(entry) == name and is_meta == (kind == "metadataXml"):
                return os.path.join(directory, entry)
        return None

    def read_bytes(self, path: str) -> bytes:
        self.paths.is_folder(path)  # refuses a symlink out of the project, a FIFO
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise ConvertError(f"{path}: cannot read it ({exc.strerror})") from None
        return self.rewrite(path, data) if self.rewrite else data

    def parse_xml(self, path: str) -> sdr_xml.XmlObject:
        if path not in self._parsed:
            data = self.read_bytes(path)
            try:
                self._parsed[path] = sdr_xml.parse(data)
            except (sdr_xml.XmlError, UnicodeDecodeError) as exc:
                raise ConvertError(f"{path}: {exc}; sf would have to merge or read this file") from None
        return self._parsed[path]

    def walk(self, path: str, ignore: ForceIgnore) -> list[str]:
        """The files in ``path`` (or ``path``, a file) that ``ignore`` allows, depth first in listing order;
        each folder's list is kept, as the walks of components and of their package directory overlap."""
        key = (path, id(ignore))
        if key not in self._walks:
            if not self.is_directory(path):
                return [path]
            self._walks[key] = list(self.paths.walk(path, ignore.denies, self.read_directory))
        return self._walks[key]


class SourceComponent:
    """SDR's SourceComponent: a member of a type, its -meta.xml and its content file or folder."""

    __slots__ = ("name", "type", "xml", "content", "parent", "parent_type", "ignore", "children_cache", "content_cache")

    def __init__(
        self,
        name: str,
        mdtype: MetadataType,
        xml: str | None = None,
        content: str | None = None,
        parent: SourceComponent | None = None,
        parent_type: MetadataType | None = None,
        ignore: ForceIgnore = NO_IGNORE,
    ):
        self.name, self.type, self.xml, self.content = name, mdtype, xml, content
        self.parent, self.parent_type, self.ignore = parent, parent_type, ignore
        self.children_cache: list[SourceComponent] | None = None
        self.content_cache: list[str] | None = None

    @property
    def full_name(self) -> str:
        if self.type.get("ignoreParsedFullName"):
            return str(self.type["name"])
        if self.parent and self.type.get("ignoreParentName"):
            return self.name
        return f"{self.parent.full_name}.{self.name}" if self.parent else self.name

    @property
    def key(self) -> str:
        """SDR's simpleKey: one entry per (type, fullName) in a ComponentSet."""
        return f"{self.type['id']}#{self.full_name}"

    def walk_content(self, tree: Tree) -> list[str]:
        """The content files (a folder's files, after .forceignore), without the -meta.xml."""
        if self.content_cache is None:
            paths = tree.walk(self.content, self.ignore) if self.content else []
            self.content_cache = [path for path in paths if path != self.xml]
        return self.content_cache

    def children(self, tree: Tree) -> list[SourceComponent]:
        """SDR's getChildren: decomposed children from the content folder, or the child elements of the file."""
        if self.parent or not self.type.get("children"):
            return []
        if self.children_cache is None:
            child_types = self.type["children"]["types"]
            found = self._decomposed_children(tree) if self.content else self._xml_children(tree)
            for child in found:
                if child.type.get("id") not in child_types:
                    raise ConvertError(
                        f"{child.xml or child.content}: not a child type of {self.type['name']} "
                        f"(the registry knows {', '.join(t['name'] for t in child_types.values())})"
                    )
            self.children_cache = found
        return self.children_cache

    def _decomposed_children(self, tree: Tree) -> list[SourceComponent]:
        children = []
        own_suffixes = (self.type.get("suffix"), self.type.get("legacySuffix"))
        for path in tree.walk(self.content or "", self.ignore):
            meta = parse_metadata_xml(path)
            if not meta or meta.suffix in own_suffixes:
                continue
            type_id = self.type["children"]["suffixes"].get(meta.suffix)
            child_type = self.type["children"]["types"].get(type_id, {})
            name = base_without_suffixes(path, child_type) if child_type.get("suffix") else base_name(path)
            children.append(SourceComponent(name, child_type, xml=path, parent=self, ignore=self.ignore))
        return children

    def _xml_children(self, tree: Tree) -> list[SourceComponent]:
        parsed = tree.parse_xml(self.xml) if self.xml else {}
        root = parsed.get(self.type["name"])
        children = []
        for child_type in self.type["children"]["types"].values():
            unique, element = child_type.get("uniqueIdElement"), child_type.get("xmlElementName")
            if not unique or not element or not isinstance(root, dict):
                continue
            elements = root.get(element, [])
            for item in elements if isinstance(elements, list) else [elements]:
                name = item.get(unique) if isinstance(item, dict) else None
                if not isinstance(name, str) or not name:
                    raise ConvertError(f"{self.xml}: a <{element}> has no <{unique}> ({child_type['name']} needs one)")
                children.append(SourceComponent(name, child_type, xml=self.xml, parent=self, ignore=self.ignore))
        return children
