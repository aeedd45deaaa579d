"""The ``[[index]]`` tables of a spec, and the prompt keys that use them: ``index`` and ``k`` of a search prompt,
``ground`` of a generate or chat prompt."""

from __future__ import annotations

import re
from typing import Any

from apexgen.errors import SpecError
from apexgen.spec.naming import MAX_CLASS_NAME, identifier_problem
from apexgen.spec.types import CONTEXT_PLACEHOLDER, Ground, Index, Input, ModelRef, Prompt

_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
DEFAULT_CHUNK_SIZE = 1000
DEFAULT_CHUNK_OVERLAP = 100
DEFAULT_GROUND_K = 5
# A custom object's API name has at most 40 characters before __c.
MAX_OBJECT_NAME = 40
# Objects a custom object cannot be the detail of: the chunk object is the detail of the indexed object, so
# that a chunk is readable exactly when its record is and is deleted with it (Salesforce Help, "Considerations
# for Relationships": User and Lead cannot be on the master side).
NOT_MASTER = frozenset({"user", "lead"})


def read_indexes(raw: list[dict[str, Any]], models: dict[str, ModelRef], prefix: str, file: str) -> tuple[Index, ...]:
    """Validate the ``[[index]]`` tables."""
    indexes: list[Index] = []
    seen: dict[str, int] = {}
    for position, item in enumerate(raw):
        at = f"index[{position}]"
        name = item["name"]
        problem = identifier_problem(name)
        if problem:
            raise SpecError(file, f"{at}.name", problem)
        if name.lower() in seen:
            raise SpecError(
                file, f"{at}.name", f"'{name}' repeats index[{seen[name.lower()]}] (Apex names ignore case)"
            )
        seen[name.lower()] = position
        obj = item["object"]
        if not _API_NAME.match(obj) or obj.lower() in NOT_MASTER:
            raise SpecError(
                file,
                f"{at}.object",
                f"'{obj}' must be the API name of an object that can own records of a custom object "
                "(such as Case, Account or Ticket__c; not User or Lead)",
            )
        for i, field in enumerate(item["fields"]):
            if not _API_NAME.match(field):
                raise SpecError(file, f"{at}.fields[{i}]", f"'{field}' is not a field API name such as Description")
        condition = item.get("condition")
        if condition is not None and re.search(r"[;{}\n\r]", condition):
            raise SpecError(
                file,
                f"{at}.condition",
                "must be one SOQL condition such as \"Status = 'Closed'\" (no ; { } or line break)",
            )
        model = models.get(item["model"].lower())
        if model is None or "embed" not in model.capabilities:
            known = ", ".join(sorted(m.alias for m in models.values() if "embed" in m.capabilities)) or "none"
            raise SpecError(
                file, f"{at}.model", f"must be an alias from [models] that can embed (such aliases: {known})"
            )
        chunk = item.get("chunk", {})
        size = chunk.get("size", DEFAULT_CHUNK_SIZE)
        overlap = chunk.get("overlap", DEFAULT_CHUNK_OVERLAP)
        if overlap * 2 > size:
            raise SpecError(file, f"{at}.chunk.overlap", f"must be at most half the chunk size ({size // 2})")
        indexes.append(Index(name, obj, tuple(item["fields"]), condition, model, size, overlap, prefix))
    return tuple(indexes)


def check_index_names(indexes: tuple[Index, ...], prompts: tuple[Prompt, ...], file: str) -> None:
    """The names an index makes fit Salesforce's limits (checked after the prefix's own classes are), and its
    name is no prompt's: both name a settings record and the runs of the job."""
    prompt_positions = {prompt.name.lower(): position for position, prompt in enumerate(prompts)}
    for position, index in enumerate(indexes):
        at = f"index[{position}].name"
        if index.name.lower() in prompt_positions:
            raise SpecError(
                file,
                at,
                f"'{index.name}' is the name of prompt[{prompt_positions[index.name.lower()]}] too: an index and a "
                "prompt each name a settings record and the runs of the job, so their names must differ",
            )
        if len(index.chunk_object) > MAX_OBJECT_NAME:
            raise SpecError(
                file,
                at,
                f"makes custom object {index.chunk_object}__c; an object name has at most {MAX_OBJECT_NAME} characters",
            )
        for cls in index.classes():
            if len(cls) > MAX_CLASS_NAME:
                raise SpecError(file, at, f"makes class name '{cls}'; Apex allows at most {MAX_CLASS_NAME}")


def index_named(name: str, indexes: tuple[Index, ...], file: str, key: str) -> Index:
    found = next((index for index in indexes if index.name.lower() == name.lower()), None)
    if found is None:
        known = ", ".join(index.name for index in indexes) or "none defined"
        raise SpecError(file, key, f"'{name}' is not an [[index]] of this spec (indexes: {known})")
    return found


def searched_index(
    raw: dict[str, Any], capability: str, indexes: tuple[Index, ...], file: str, at: str
) -> Index | None:
    """The index a search prompt (at ``at``) searches; None for the other capabilities."""
    if capability != "search":
        return None
    if "index" not in raw:
        raise SpecError(file, f"{at}.index", "is required for capability 'search' (the name of an [[index]])")
    return index_named(raw["index"], indexes, file, f"{at}.index")


def read_ground(
    raw: dict[str, Any], template: str | None, inputs: tuple[Input, ...], indexes: tuple[Index, ...], file: str, at: str
) -> Ground:
    """Validate ``ground`` of the generate or chat prompt at ``at``: its index, the input searched for and
    {context}."""
    at_ground = f"{at}.ground"
    index = index_named(raw["index"], indexes, file, f"{at_ground}.index")
    query = next((item for item in inputs if item.name == raw["query"]), None)
    if query is None or query.type != "String":
        known = ", ".join(item.name for item in inputs if item.type == "String") or "none"
        raise SpecError(file, f"{at_ground}.query", f"must name a String input of this prompt (String inputs: {known})")
    if f"{{{CONTEXT_PLACEHOLDER}}}" not in (template or ""):
        raise SpecError(file, f"{at}.template", f"must hold {{{CONTEXT_PLACEHOLDER}}}, where the chunks found go")
    return Ground(index, query.name, raw.get("k", DEFAULT_GROUND_K))
