"""The names a prompt's Lightning web component can make public: which inputs and outputs can be @api
properties, as LWC and its lint rules judge them. An input of another name stays a form field that no
Flow screen or parent component sets.
"""

from __future__ import annotations

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
# Members of the generated class and of LightningElement that a public property would replace.
COMPONENT_MEMBERS = frozenset(
    [
        "values",
        "pageRecordId",
        "recordId",
        "receiveRecord",
        "answerText",
        "outputFields",
        "announceAnswer",
        "isWaiting",
        "errorMessage",
        "answer",
        "messages",
        "followUp",
        "similarity",
        "confirmation",
        "ratings",
        "feedbackRating",
        "feedbackComment",
        "feedbackConfirmation",
        "cannotSend",
        "hasConversation",
        "conversation",
        "cannotSendFollowUp",
        "hasSimilarity",
        "isRatedGood",
        "isRatedBad",
        "cannotSendFeedback",
        "inputValues",
        "whileWaiting",
        "sendConversation",
        "resetFeedback",
        "template",
        "refs",
        "hostElement",
        "render",
        "dispatchEvent",
        "addEventListener",
        "removeEventListener",
        "connectedCallback",
        "disconnectedCallback",
        "renderedCallback",
        "errorCallback",
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
