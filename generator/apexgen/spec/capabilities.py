"""What each capability of a prompt reads: the keys it does not read are refused, not ignored."""

from __future__ import annotations

# Keys of a prompt that a search prompt does not read: its model is its index's, its input is the query.
SEARCH_UNUSED_KEYS = (
    "model",
    "system",
    "template",
    "inputs",
    "similarity",
    "source",
    "localization",
    "tags",
    "feedback",
    "flows",
    "outputs",
    "record",
    "lwc_targets",
    "ground",
)

# Keys a capability does not read: naming one is a mistake worth reporting, not ignoring.
KEYS_NOT_FOR = {
    "generate": ("system", "similarity", "source", "index", "k"),
    "chat": ("similarity", "source", "index", "k"),
    "embed": ("system", "template", "inputs", "source", "feedback", "outputs", "index", "k", "ground"),
    "search": SEARCH_UNUSED_KEYS,
    "feedback": (
        "index",
        "k",
        "ground",
        "model",
        "system",
        "template",
        "inputs",
        "similarity",
        "localization",
        "tags",
        "feedback",
        "flows",
        "outputs",
    ),
}
