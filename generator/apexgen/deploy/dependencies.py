"""Before a deploy: ask the target org for the names the project uses but does not define.

The check lists them once each (``apexgen.check.dependencies``); offline it cannot know whether the org has
them. Connected, the org answers through the Tooling API: sObjects from EntityDefinition, Apex classes from
ApexClass (an installed package's global classes included, with their namespace), packages from
InstalledSubscriberPackage, and the platform's own Apex types from the completions apex-ls lacks. What the
org has is fine; what it lacks is a deploy blocker, found before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from apexgen.check.dependencies import Required
from apexgen.org.tooling import ToolingSession, soql_quote

# Names per IN (...) list: well under the REST query string's length limit (16,384 characters).
QUERY_CHUNK = 100


def _chunks(names: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(names))
    for start in range(0, len(ordered), QUERY_CHUNK):
        yield ordered[start : start + QUERY_CHUNK]


def _in_list(names: list[str]) -> str:
    return ", ".join(soql_quote(name) for name in names)


def _sobjects(session: ToolingSession, names: set[str]) -> set[str]:
    """Which of the sObjects ``names`` the org has (lower case)."""
    found = set()
    for chunk in _chunks(names):
        soql = f"SELECT QualifiedApiName FROM EntityDefinition WHERE QualifiedApiName IN ({_in_list(chunk)})"
        found |= {str(row["QualifiedApiName"]).lower() for row in session.query(soql)}
    return found


def _apex_classes(session: ToolingSession, names: set[str]) -> set[tuple[str, str]]:
    """(namespace or "", class name) of the org's Apex classes named one of ``names`` (lower case)."""
    found = set()
    for chunk in _chunks(names):
        soql = f"SELECT NamespacePrefix, Name FROM ApexClass WHERE Name IN ({_in_list(chunk)})"
        found |= {
            (str(row.get("NamespacePrefix") or "").lower(), str(row["Name"]).lower()) for row in session.query(soql)
        }
    return found


def _namespaces(session: ToolingSession) -> set[str]:
    """The namespaces of the packages installed in the org (lower case)."""
    rows = session.query("SELECT SubscriberPackage.NamespacePrefix FROM InstalledSubscriberPackage")
    return {str((row.get("SubscriberPackage") or {}).get("NamespacePrefix") or "").lower() for row in rows} - {""}


def _apex_provided(
    name: str, classes: set[tuple[str, str]], platform: dict[str, set[str]], namespaces: set[str]
) -> bool:
    """Whether the org provides the Apex type ``name``: ``A`` (a class, a platform class or namespace, an
    installed package's namespace) or ``A.B`` (class B of namespace A, or inner type B of class A), whatever
    the case."""
    parts = name.lower().split(".")
    first = parts[0]
    if ("", first) in classes or first in platform or first in namespaces:
        return True
    if any(first in names for names in platform.values()):
        return True
    return len(parts) > 1 and ((first, parts[1]) in classes or parts[1] in platform.get(first, set()))


def missing_in_org(session: ToolingSession, required: list[Required]) -> list[Required]:
    """The names of ``required`` the org does not provide (none asked when the list is empty)."""
    sobjects = {r.name for r in required if r.kind == "sobject"}
    apex = [r.name for r in required if r.kind == "apex"]
    found_objects = _sobjects(session, sobjects) if sobjects else set()
    classes: set[tuple[str, str]] = set()
    platform: dict[str, set[str]] = {}
    if apex:
        classes = _apex_classes(session, {part for name in apex for part in name.split(".")[:2]})
        platform = session.apex_symbols()
    namespaces = _namespaces(session) if any(r.kind in ("namespace", "apex") for r in required) else set()
    # The completions' shape (publicDeclarations) is what IDEs read, not a documented contract: when the org
    # answers without it, nobody can tell a platform type from a missing one, so no Apex name blocks (safe:
    # the org still refuses, at deploy, what it lacks).
    if apex and not platform:
        apex = []
    provided = {
        "sobject": lambda name: name.lower() in found_objects,
        "apex": lambda name: name not in apex or _apex_provided(name, classes, platform, namespaces),
        "namespace": lambda name: name.lower() in namespaces,
    }
    return [r for r in required if not provided[r.kind](r.name)]
