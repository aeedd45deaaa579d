"""The metadata registry of @salesforce/source-deploy-retrieve (the sf CLI's own), read as data.

sdr/metadataRegistry.json is SDR's file as published on npm, with its license; sdr/SDR_VERSION names the
release (the one the sf CLI apexgen is compared with bundles). scripts/refresh_registry.py replaces them.
Types are dicts with SDR's keys (name, directoryName, suffix, strictDirectoryName, inFolder, folderType,
folderContentType, strategies, children, ...); lookups follow SDR's RegistryAccess.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "sdr"
MetadataType = dict[str, Any]


class Registry:
    def __init__(self, data: dict[str, Any]):
        self.types: dict[str, MetadataType] = data["types"]
        self.suffixes: dict[str, str] = data["suffixes"]
        self.strict_directory_names: dict[str, str] = data["strictDirectoryNames"]
        self.child_types: dict[str, str] = data["childTypes"]

    @classmethod
    def load(cls) -> Registry:
        return cls(json.loads((DATA / "metadataRegistry.json").read_text(encoding="utf-8")))

    def type_by_name(self, name: str) -> MetadataType:
        lower = name.lower().strip()
        if lower in self.child_types:
            child: MetadataType = self.types[self.child_types[lower]]["children"]["types"][lower]
            return child
        found = self.types[lower]
        alias: str | None = found.get("aliasFor")
        return self.types[alias] if alias else found

    def type_by_suffix(self, suffix: str) -> MetadataType | None:
        type_id = self.suffixes.get(suffix)
        return self.type_by_name(type_id) if type_id else None

    def find_type(self, predicate: Callable[[MetadataType], bool]) -> MetadataType | None:
        found = next((t for t in self.types.values() if predicate(t)), None)
        return self.types[found["aliasFor"]] if found and found.get("aliasFor") else found

    @cached_property
    def strict_folder_types(self) -> list[MetadataType]:
        return [self.types[type_id] for type_id in self.strict_directory_names.values()]

    @cached_property
    def folder_content_directories(self) -> list[str]:
        return [t["directoryName"] for t in self.types.values() if t.get("folderContentType") and not t.get("aliasFor")]

    def parent_type(self, child_name: str) -> MetadataType | None:
        parent_id = self.child_types.get(child_name.lower().strip())
        return self.types[parent_id] if parent_id else None


def sdr_version() -> str:
    """The @salesforce/source-deploy-retrieve release the registry comes from."""
    return (DATA / "SDR_VERSION").read_text(encoding="utf-8").split()[0]
