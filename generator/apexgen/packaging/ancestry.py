"""The ancestor of a new managed 2GP version, resolved as ``sf package version create`` resolves it.

A package directory names the ancestor with ``ancestorId`` (a 04t or 05i id, or an alias of one) or
``ancestorVersion`` (``M.m.p``), or the keywords ``HIGHEST`` (the highest released version) and ``NONE`` (no
ancestor: allowed only while no version is released, or with --skip-ancestor-check). The descriptor always
carries ``ancestorId``: the ancestor's 05i id, or "" for the first version, a patch without a keyword, or an
unlocked package. Unless --skip-ancestor-check, a non-patch version whose package has a released version must
name the highest released M.m.0 as its ancestor, or subscribers could not upgrade to it.

The checks, their order, the queries and the messages follow @salesforce/packaging 5.0.7
(src/package/packageVersionCreate.ts: getAncestorId, getAncestorIdHighestRelease, validateAncestorId;
messages/package_version_create.md), so a project behaves the same under apexgen and sf.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apexgen.errors import UsageError
from apexgen.org.tooling import soql_quote
from apexgen.packaging.tooling import PackagingTooling, RecordNotFound
from apexgen.project.sfdx_project import SfdxProject, is_record_id

HIGHEST = "HIGHEST"
NONE = "NONE"
ANCESTOR_KEYS = ("ancestorId", "ancestorVersion")
VERSION_FIELDS = "Id, SubscriberPackageVersionId, MajorVersion, MinorVersion, PatchVersion"
ORDER_HIGHEST = "ORDER BY MajorVersion Desc, MinorVersion Desc, PatchVersion Desc, BuildNumber Desc LIMIT 1"
SKIP_HINT = "You can also specify --skip-ancestor-check to override the ancestry requirement."


class AncestryError(UsageError):
    """The package directory's ancestor cannot be used: exit 2, the project must change (or --skip-ancestor-check)."""


@dataclass
class Ancestor:
    version_id: str  # 05i, "" for none
    number: str = ""  # M.m.p of the ancestor, for the user


def _refuse(project: SfdxProject, path: str, key: str, message: str) -> AncestryError:
    return AncestryError(f"{project.path.name}: {key} of package directory {path!r}: {message}")


def _number(row: dict[str, Any]) -> str:
    return f"{row['MajorVersion']}.{row['MinorVersion']}.{row['PatchVersion']}"


def container_options(tooling: PackagingTooling, package_id: str) -> str:
    """Managed or Unlocked: the Package2's ContainerOptions."""
    rows = tooling.query(f"SELECT Id, ContainerOptions FROM Package2 WHERE Id = {soql_quote(package_id)}")
    if not rows:
        raise RecordNotFound(f"No package ID was found in Dev Hub for package ID: {package_id}.")
    return str(rows[0]["ContainerOptions"])


def check_ancestor_keys(project: SfdxProject, entry: dict[str, Any]) -> None:
    """Offline, before the checks and the build: the values sf refuses without asking the Dev Hub."""
    path = str(entry.get("path"))
    ancestor_id, ancestor_version = (entry.get(key) for key in ANCESTOR_KEYS)
    for key, value in zip(ANCESTOR_KEYS, (ancestor_id, ancestor_version), strict=True):
        if value is not None and not isinstance(value, str):
            raise _refuse(project, path, key, f"must be a string, not {value!r}")
    keywords = (HIGHEST, NONE)
    uses_keyword = ancestor_id in keywords or ancestor_version in keywords
    if ancestor_id and ancestor_version and uses_keyword and ancestor_id != ancestor_version:
        raise _refuse(
            project,
            path,
            "ancestorId",
            f"Both ancestorId ({ancestor_id}) and ancestorVersion ({ancestor_version}) specified, HIGHEST "
            "and/or NONE are used, the values disagree",
        )
    if ancestor_version and ancestor_version not in keywords:
        parts = ancestor_version.split(".")
        if not 3 <= len(parts) <= 4 or not all(re.fullmatch(r"[0-9]+", part) for part in parts[:3]):
            raise _refuse(
                project,
                path,
                "ancestorVersion",
                f"The given ancestorVersion ({ancestor_version}) is not in the correct format",
            )


def resolve_ancestor(
    tooling: PackagingTooling,
    project: SfdxProject,
    entry: dict[str, Any],
    package_id: str,
    version_number: str,
    *,
    skip_ancestor_check: bool,
) -> Ancestor:
    """The ancestor the descriptor carries (``Ancestor("")`` for none), checked against the Dev Hub's versions."""
    path = str(entry.get("path"))
    ancestor_id = str(entry.get("ancestorId") or "")
    ancestor_version = str(entry.get("ancestorVersion") or "")
    if container_options(tooling, package_id) == "Unlocked":
        if ancestor_id or ancestor_version:
            raise _refuse(
                project,
                path,
                "ancestorId" if ancestor_id else "ancestorVersion",
                "Can’t create package version. Specifying an ancestor is available only for second-generation "
                "managed packages. Remove the ancestorId or ancestorVersion from your sfdx-project.json file, and "
                "then create the package version again.",
            )
        return Ancestor("")
    use_highest = HIGHEST in (ancestor_id, ancestor_version)
    use_none = NONE in (ancestor_id, ancestor_version)
    if use_none and skip_ancestor_check:
        return Ancestor("")
    major, minor, patch = version_number.split(".")[:3]
    is_patch = patch != "0"
    released = f"WHERE Package2Id = {soql_quote(package_id)} AND IsReleased = true AND IsDeprecated = false"
    highest_released: dict[str, Any] | None = None
    if is_patch and use_highest:
        rows = tooling.query(
            f"SELECT {VERSION_FIELDS} FROM Package2Version {released} AND PatchVersion = 0 "
            f"AND MajorVersion = {int(major)} AND MinorVersion = {int(minor)} {ORDER_HIGHEST}"
        )
        if not rows:
            key = "ancestorId" if ancestor_id == HIGHEST else "ancestorVersion"
            raise _refuse(
                project,
                path,
                key,
                f"No matching major.minor version found for the given patch version ({major}.{minor}.0)",
            )
        return Ancestor(str(rows[0]["Id"]), _number(rows[0]))
    if not is_patch and (use_highest or not skip_ancestor_check):
        rows = tooling.query(
            f"SELECT {VERSION_FIELDS} FROM Package2Version {released} AND PatchVersion = 0 {ORDER_HIGHEST}"
        )
        if rows:
            highest_released = rows[0]
            if use_highest:
                return Ancestor(str(highest_released["Id"]), _number(highest_released))
        elif use_highest:
            key = "ancestorId" if ancestor_id == HIGHEST else "ancestorVersion"
            raise _refuse(
                project,
                path,
                key,
                f"No matching ancestor found for the given ancestorVersion ({version_number}) in package {package_id}",
            )

    resolved, number, specified = "", "", ancestor_id
    if not use_none and ancestor_id:
        resolved, number = _ancestor_by_id(tooling, project, path, ancestor_id)
    if not use_none and ancestor_version:
        by_version = _ancestor_by_version(tooling, project, path, package_id, ancestor_version)
        if ancestor_id and resolved != by_version["Id"]:
            raise _refuse(
                project,
                path,
                "ancestorVersion",
                f"No matching ancestor version ({ancestor_version}) found for the given ancestorId ({ancestor_id})",
            )
        resolved, number, specified = str(by_version["Id"]), _number(by_version), ancestor_version

    if use_none:
        if highest_released is None:
            return Ancestor("")
        raise _refuse(
            project,
            path,
            "ancestorId" if ancestor_id == NONE else "ancestorVersion",
            "Can’t create package version because you didn’t specify a package ancestor. Set the ancestor version "
            f"to {_number(highest_released)} and try creating the package version again. {SKIP_HINT}",
        )
    if not is_patch and not skip_ancestor_check:
        if highest_released is None:
            return Ancestor("")  # the first released version is still to come: no ancestor
        if highest_released["Id"] != resolved:
            raise _refuse(
                project,
                path,
                "ancestorVersion" if ancestor_version else "ancestorId" if ancestor_id else "ancestorId (not set)",
                f"Can’t create package version. The ancestor version [{specified}] you specified isn’t the highest "
                f"released package version. Set the ancestor version to {_number(highest_released)} and try "
                f"creating the package version again. {SKIP_HINT}",
            )
    return Ancestor(resolved, number)


def _ancestor_by_id(tooling: PackagingTooling, project: SfdxProject, path: str, value: str) -> tuple[str, str]:
    """(05i id, M.m.p) of an ancestorId given as a 04t or 05i id or an alias of one."""
    record_id = project.aliases.get(value, value)
    if not (is_record_id(record_id, "04t") or is_record_id(record_id, "05i")):
        raise _refuse(
            project,
            path,
            "ancestorId",
            f"The Subscriber Package Version Id or Package Version Id: {value} isn't defined in the "
            "sfdx-project.json. Add it to the packageDirectories section and add the alias to packageAliases "
            "with its 04t or 05i ID.",
        )
    field = "SubscriberPackageVersionId" if record_id.startswith("04t") else "Id"
    rows = tooling.query(f"SELECT {VERSION_FIELDS} FROM Package2Version WHERE {field} = {soql_quote(record_id)}")
    if not rows:
        raise _refuse(
            project,
            path,
            "ancestorId",
            f"The Subscriber Package Version Id {record_id} is invalid, as a corresponding Package Version Id was "
            "not found",
        )
    return str(rows[0]["Id"]), _number(rows[0])


def _ancestor_by_version(
    tooling: PackagingTooling, project: SfdxProject, path: str, package_id: str, value: str
) -> dict[str, Any]:
    """The released Package2Version M.m.p of the package (any build), as sf finds it."""
    major, minor, patch = (int(part) for part in value.split(".")[:3])
    rows = tooling.query(
        f"SELECT {VERSION_FIELDS}, IsReleased FROM Package2Version WHERE Package2Id = {soql_quote(package_id)} "
        f"AND MajorVersion = {major} AND MinorVersion = {minor} AND PatchVersion = {patch}"
    )
    if not rows:
        raise _refuse(
            project,
            path,
            "ancestorVersion",
            f"No matching ancestor found for the given ancestorVersion ({value}) in package {package_id}",
        )
    released = next((row for row in rows if row.get("IsReleased") is True), None)
    if released is None:
        raise _refuse(project, path, "ancestorVersion", f"The given ancestor version ({value}) has not been released")
    return released
