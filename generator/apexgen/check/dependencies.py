"""Names the project uses but does not define: the target org must provide them.

A type from one of the project's package dependencies (declared in sfdx-project.json, or installed by its CI
before the deploy without being declared), or a platform type apex-ls does not model, is nowhere in the
project, and apex-ls reports every use of it as missing. Offline, nobody knows whether the target org has it:
the check reports each such name once, in one finding (rule ``REQUIRED_RULE``) that names one place using it,
and ``apexgen deploy`` asks the org about them before it sends anything (``apexgen.deploy.dependencies``).
A name the project means as its own (one carrying its namespace, or close to one of its types: a typo) is
never in this list: it stays a deploy blocker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from apexgen.check.findings import Finding

REQUIRED_RULE = "org-must-provide"
REQUIRED_SEVERITY = "moderate"  # the target org decides; `apexgen deploy` asks it
# What a name is, as the finding's message says it (and reads it back).
KINDS = {"sobject": "sObject", "apex": "Apex type", "namespace": "namespace"}
_LISTED = re.compile(r"(sObject|Apex type|namespace) ([\w.]+) \(([^()]*)\)")


@dataclass(frozen=True, order=True)
class Required:
    kind: str  # a key of KINDS
    name: str  # sObject API name, Apex type (dotted when namespaced or inner), or namespace prefix
    example: str  # "file:line" of one use

    def __str__(self) -> str:
        return f"{KINDS[self.kind]} {self.name} ({self.example})"


def required_finding(tool: str, required: list[Required]) -> list[Finding]:
    """The one finding listing ``required`` (none when the list is empty)."""
    if not required:
        return []
    listing = "; ".join(str(r) for r in sorted(required))
    message = (
        f"the target org must provide these {len(required)} name(s), which the project uses but does not define "
        f"(from its package dependencies, or installed before the deploy): {listing}"
    )
    return [Finding(".", 0, 0, REQUIRED_SEVERITY, tool, REQUIRED_RULE, message)]


def required_of(findings: list[Finding]) -> list[Required]:
    """The names the findings say the target org must provide, each once."""
    kinds = {label: kind for kind, label in KINDS.items()}
    found = {
        (kinds[label], name): example
        for finding in findings
        if finding.rule == REQUIRED_RULE
        for label, name, example in _LISTED.findall(finding.message)
    }
    return sorted(Required(kind, name, example) for (kind, name), example in found.items())
