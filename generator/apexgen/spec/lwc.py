"""The component of a prompt exposed to lwc: where it may be placed (``lwc_targets``) and which inputs a
Flow screen or a parent component may set (``lwc_public``).

Both are contracts in a managed package. Once a version is released with ``isExposed`` true, no target
and no public (``@api``) property can be removed from the component, even one added since the last
release, and ``isExposed`` cannot go back to false (LWC Developer Guide, "Add Components to Managed
Packages"). So a component is placed only where its prompt needs it and its inputs are public only where
a target needs them, unless the spec chooses more; ``lwc_targets = []`` keeps it unexposed and free to change.
"""

from __future__ import annotations

from typing import Any

from apexgen.errors import SpecError
from apexgen.spec.reserved import COMPONENT_MEMBERS
from apexgen.spec.types import Input, RecordTrigger

# spec name -> Lightning target, in the order the component's metadata lists them
LWC_TARGETS = {
    "record_page": "lightning__RecordPage",
    "app_page": "lightning__AppPage",
    "home_page": "lightning__HomePage",
    "flow_screen": "lightning__FlowScreen",
}

# Property names the LWC compiler refuses for @api (babel-plugin-component's validatePropertyName), and
# the aria* and role properties LWC reflects as attributes.
LWC_RESERVED_NAMES = frozenset(
    [
        "part",
        "is",
        "class",
        "slot",
        "style",
        "role",
        "bgcolor",
        "accesskey",
        "contenteditable",
        "tabindex",
        "maxlength",
        "maxvalue",
    ]
)


def public_property_problem(name: str) -> str | None:
    """Why the input or output ``name`` cannot be a public property of its component (as LWC and its lint
    rules judge @api names), or None. Such an input stays a form field that no Flow screen or parent sets."""
    prefixes = {
        "on": "which LWC reserves for event handlers",
        "aria": "which LWC reflects as an accessibility attribute",
        "handle": "the prefix of the component's own event handlers",
    }
    if name in LWC_RESERVED_NAMES:
        return "is a name LWC reserves for an HTML attribute"
    if name in COMPONENT_MEMBERS:
        return "is the name of a member of the generated component"
    for prefix, reason in prefixes.items():
        if name.startswith(prefix):
            return f"starts with '{prefix}', {reason}"
    if name.startswith("data") and len(name) > 4:
        return "starts with 'data', which LWC reserves for data-* attributes"
    if not name[0].islower():
        return "starts with a capital letter (public properties start with a lower-case letter)"
    if "_" in name and name.lower() != name:
        return "mixes underscores and capital letters, which the LWC lint rules refuse in public properties"
    return None


def page_record_input(inputs: tuple[Input, ...]) -> Input | None:
    """The input a record page's record fills until the user types another: the first Id input, but none
    when an input is called recordId (the component's own recordId property would hide it)."""
    if any(item.name == "recordId" for item in inputs):
        return None
    return next((item for item in inputs if item.type == "Id"), None)


def default_targets(inputs: tuple[Input, ...], record: RecordTrigger | None) -> tuple[str, ...]:
    """Where a component goes when the spec does not say: the one page its prompt needs.

    A record page when the page's record fills an input (an Id input, or the fields a record trigger maps);
    otherwise an app page, the page type that needs no context. Never a Flow screen: the screen Flows
    apexgen generates use standard screen fields, not the component, and a Flow screen makes the inputs
    and the answer public. Never the home page as well: one page type is enough to use the component.
    """
    if page_record_input(inputs) is not None or (record is not None and record.inputs):
        return ("record_page",)
    return ("app_page",)


def read_lwc(
    raw: dict[str, Any],
    expose: tuple[str, ...],
    inputs: tuple[Input, ...],
    record: RecordTrigger | None,
    project_targets: tuple[str, ...] | None,
    file: str,
    at: str,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The targets and public inputs of the component of the prompt at ``at``, which takes ``inputs``.

    Targets: the prompt's ``lwc_targets``, else the project's, else ``default_targets``. Public inputs: the
    prompt's ``lwc_public``, else every input a Flow screen can set when the component goes on one (its
    targetConfig properties must be public), else none.
    """
    if "lwc" not in expose:
        for key in ("lwc_targets", "lwc_public"):
            if key in raw:
                raise SpecError(file, f"{at}.{key}", 'needs the prompt exposed to lwc (add "lwc" to expose)')
        return (), ()
    chosen = raw.get("lwc_targets", project_targets)
    targets = default_targets(inputs, record) if chosen is None else tuple(t for t in LWC_TARGETS if t in chosen)
    if "lwc_public" not in raw:
        settable = "flow_screen" in targets
        return targets, tuple(i.name for i in inputs if settable and public_property_problem(i.name) is None)
    names = [item.name for item in inputs]
    for index, name in enumerate(raw["lwc_public"]):
        key = f"{at}.lwc_public[{index}]"
        if name not in names:
            raise SpecError(
                file, key, f"'{name}' is not an input of this prompt (inputs: {', '.join(names) or 'none'})"
            )
        problem = public_property_problem(name)
        if problem:
            raise SpecError(file, key, f"'{name}' cannot be a public property of the component: it {problem}")
    return targets, tuple(name for name in names if name in raw["lwc_public"])
