"""sfdx-project.json as the sf CLI reads and writes it: package directories and packageAliases.

apexgen and ``sf package ...`` share the file, so both must find the same keys: a package directory names
its package (``package``), ``versionName`` and ``versionNumber`` (``M.m.p.NEXT``); ``packageAliases`` maps a
package name to its 0Ho id and each version alias (``Name@1.0.0-1``) to its 04t id. A write changes only
the keys it means to: every other key keeps its value and place, and the file keeps its indentation
(sf writes 2 spaces) and its final newline or lack of one.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apexgen.errors import SpecError, UsageError
from apexgen.project.containment import outside_reason
from apexgen.salesforce import API_VERSION, SFDX_PROJECT_FILE
from apexgen.untrusted import json_loads


def as_sf_reads(path: str) -> str:
    """A packageDirectories path as sf reads it: written with either separator ('plugins\\Logger' or
    'plugins/Logger'), with the system's (@salesforce/core's SfProject replaces the other one with it)."""
    return path.replace("\\" if os.sep == "/" else "/", os.sep)


VERSION_NUMBER = re.compile(r"(\d+)\.(\d+)\.(\d+)\.(NEXT|\d+)")
# What `sf package create` writes into a package directory that had no package yet.
FIRST_VERSION_NAME = "ver 0.1"
FIRST_VERSION_NUMBER = "0.1.0.NEXT"
# The scratch-org definition of the org that builds package versions, where sf projects keep it.
DEFINITION_FILE = "config/project-scratch-def.json"


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds sfdx-project.json, as sf finds its project
    (sfdx-core's resolveProjectPath): a command run in force-app/main/default works on its project."""
    for folder in (start, *start.parents):
        if (folder / SFDX_PROJECT_FILE).is_file():
            return folder
    return None


def is_record_id(value: str, prefix: str) -> bool:
    """A Salesforce id of the object whose key prefix is ``prefix`` (0Ho, 04t, ...), 15 or 18 characters."""
    return re.fullmatch(rf"{prefix}[a-zA-Z0-9]{{12}}(?:[a-zA-Z0-9]{{3}})?", value) is not None


def read_document(root: Path) -> tuple[str, Any]:
    """The text of ``root``'s sfdx-project.json and its JSON value: the one place the file is parsed.

    Raises what reading and decoding raise (OSError, UnicodeDecodeError, json.JSONDecodeError), for the
    caller to report in its own way: ``SfdxProject.load`` as an error, the check as findings; and SpecError
    for a file that is a symlink out of the project (its content is not the project's)."""
    if (root / SFDX_PROJECT_FILE).is_symlink():
        reason = outside_reason(root, SFDX_PROJECT_FILE)
        if reason:
            raise SpecError(str(root / SFDX_PROJECT_FILE), "", reason)
    text = (root / SFDX_PROJECT_FILE).read_text(encoding="utf-8")
    return text, json_loads(text)


@dataclass
class PackageDirectory:
    """A packageDirectories entry that names a package."""

    path: str
    package: str  # the package name (an alias in packageAliases) or a 0Ho id
    version_name: str
    version_number: str
    entry: dict[str, Any]


class SfdxProject:
    """The parsed file; change it through the methods below, then ``save``."""

    def __init__(self, path: Path, data: dict[str, Any], indent: str, final_newline: bool):
        self.path, self.data, self.indent, self.final_newline = path, data, indent, final_newline

    @classmethod
    def load(cls, root: Path) -> SfdxProject:
        """The project file at ``root``; SpecError (exit 2, naming the file and key) when it cannot be used."""
        path = root / SFDX_PROJECT_FILE
        try:
            text, data = read_document(root)
        except FileNotFoundError:
            raise SpecError(str(path), "", "not found; run apexgen in an SFDX project or pass --project-dir") from None
        except OSError as exc:
            raise SpecError(str(path), "", f"cannot read it ({exc.strerror})") from None
        except UnicodeDecodeError as exc:
            raise SpecError(str(path), "", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except ValueError as exc:
            raise SpecError(str(path), "", f"not valid JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("packageDirectories"), list):
            raise SpecError(str(path), "packageDirectories", 'must list at least one {"path": ...}')
        indent = re.search(r"\n([ \t]+)\S", text)
        return cls(path, data, indent.group(1) if indent else "  ", text.endswith("\n"))

    @property
    def root(self) -> Path:
        return self.path.parent

    def directory_paths(self) -> list[str]:
        """The path of every package directory as sf reads it (``as_sf_reads``), in the file's order. The file is committed, so each
        is checked here, the one reader of it: a path that leads outside the project (``..``, absolute, or
        through a symlink) is refused; symlinks are followed only inside it."""
        paths = []
        for index, entry in enumerate(self.data["packageDirectories"]):
            key = f"packageDirectories[{index}].path"
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise SpecError(str(self.path), key, "must be a string (every entry needs a path)")
            path = as_sf_reads(entry["path"])
            reason = outside_reason(self.root, path)
            if reason:
                raise SpecError(str(self.path), key, reason)
            paths.append(path)
        return paths

    def package_paths(self) -> list[Path]:
        """Every package directory, resolved, in the file's order; each must exist inside the project."""
        paths = []
        for directory in self.directory_paths():
            path = (self.root / directory).resolve()
            if not path.is_dir():
                raise SpecError(str(self.path), "packageDirectories", f"package directory {directory!r} does not exist")
            paths.append(path)
        if not paths:
            raise SpecError(str(self.path), "packageDirectories", 'must list at least one {"path": ...}')
        return paths

    @property
    def namespace(self) -> str:
        return str(self.data.get("namespace") or "")

    @property
    def api_version(self) -> str:
        return str(self.data.get("sourceApiVersion") or API_VERSION)

    @property
    def aliases(self) -> dict[str, str]:
        aliases = self.data.get("packageAliases")
        return dict(aliases) if isinstance(aliases, dict) else {}

    def alias_of(self, record_id: str) -> str | None:
        """The first alias of an id (15- and 18-character forms of one id match)."""
        return next((alias for alias, value in self.aliases.items() if value[:15] == record_id[:15]), None)

    def directories(self) -> list[dict[str, Any]]:
        return [entry for entry in self.data["packageDirectories"] if isinstance(entry, dict)]

    def resolve(self, name_or_id: str, prefix: str, what: str) -> str:
        """An id that starts with ``prefix`` (0Ho, 04t), given as such or as an alias of packageAliases."""
        value = self.aliases.get(name_or_id, name_or_id)
        if not is_record_id(value, prefix):
            known = ", ".join(a for a, i in self.aliases.items() if i.startswith(prefix)) or "none"
            raise UsageError(
                f"{name_or_id!r} is neither a {what} id ({prefix}...) nor an alias of one in "
                f"{self.path.name} packageAliases (known: {known})"
            )
        return value

    def package_directory(self, package: str | None) -> PackageDirectory:
        """The directory of ``package`` (a name or 0Ho id); without one, the default directory."""
        entries = [e for e in self.directories() if e.get("package")]
        if package is None:
            chosen = [e for e in entries if e.get("default")] or (entries if len(entries) == 1 else [])
            if not chosen:
                raise UsageError(
                    f"{self.path.name}: no default package directory names a package; "
                    "pass --package NAME or run apexgen package create first"
                )
        else:
            ids = {package, self.aliases.get(package, package)}
            chosen = [e for e in entries if e["package"] in ids or self.aliases.get(e["package"]) in ids]
            if not chosen:
                names = ", ".join(str(e["package"]) for e in entries) or "none"
                raise UsageError(
                    f"--package: no package directory of {self.path.name} is for {package!r} (packages: {names})"
                )
        entry = chosen[0]
        number = str(entry.get("versionNumber") or "")
        if not VERSION_NUMBER.fullmatch(number):
            raise UsageError(
                f"{self.path.name}: versionNumber of package {entry['package']!r} is {number!r}; "
                "it must be MAJOR.MINOR.PATCH.NEXT (or a build number), such as 1.0.0.NEXT"
            )
        return PackageDirectory(
            str(entry.get("path") or ""), str(entry["package"]), str(entry.get("versionName") or ""), number, entry
        )

    def check_new_package(self, name: str, path: str) -> None:
        """Refuse, before anything is created in the org, a package the file cannot take."""
        outside = outside_reason(self.root, path)
        if outside:
            raise UsageError(f"--path: {outside}")
        if name in self.aliases:
            raise UsageError(f"{self.path.name}: packageAliases already has {name!r} ({self.aliases[name]})")
        entry = next((e for e in self.directories() if e.get("path") == path), None)
        if entry is not None and entry.get("package") not in (None, name):
            raise UsageError(
                f"{self.path.name}: package directory {path!r} already belongs to package "
                f"{entry['package']!r}; pass --path for another directory"
            )

    def add_package(self, name: str, package_id: str, path: str, description: str | None) -> None:
        """What `sf package create` records: the package on its directory, and the alias of its 0Ho id. The
        project's build-org definition (apexgen init --namespace writes it) becomes the directory's definitionFile,
        which the sfdx-project.json schema allows on package directories only."""
        entry = next((e for e in self.directories() if e.get("path") == path), None)
        if entry is None:
            entry = {"path": path, "default": not any(e.get("default") for e in self.directories())}
            self.data["packageDirectories"].append(entry)
        entry["package"] = name
        entry.setdefault("versionName", FIRST_VERSION_NAME)
        entry.setdefault("versionNumber", FIRST_VERSION_NUMBER)
        if description:
            entry.setdefault("versionDescription", description)
        if (self.root / DEFINITION_FILE).is_file():
            entry.setdefault("definitionFile", DEFINITION_FILE)
        self.set_alias(name, package_id)

    def set_alias(self, alias: str, record_id: str) -> None:
        aliases = self.data.get("packageAliases")
        if not isinstance(aliases, dict):
            aliases = self.data["packageAliases"] = {}
        aliases[alias] = record_id

    def save(self) -> None:
        text = json.dumps(self.data, indent=self.indent, ensure_ascii=False) + ("\n" if self.final_newline else "")
        try:
            self.path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot write it ({exc.strerror})") from None


def default_directory_path(project: SfdxProject) -> str:
    """The path of the default package directory (the one `sf package create --path` is usually given)."""
    entries = project.directories()
    default = next((e for e in entries if e.get("default")), entries[0] if entries else None)
    if default is None or not isinstance(default.get("path"), str):
        raise UsageError(f"{project.path.name}: packageDirectories has no default directory with a path")
    return str(default["path"])
