"""The ``outputs`` of a prompt: typed values its answer carries as a JSON object."""

from __future__ import annotations

import json
from typing import Any

from apexgen.errors import SpecError
from apexgen.spec.naming import require_identifier, text_problem, words
from apexgen.spec.reserved import output_problem
from apexgen.spec.types import Input, Output


def read_outputs(
    raw: list[dict[str, Any]], inputs: tuple[Input, ...], chat: bool, file: str, at: str
) -> tuple[Output, ...]:
    """Validate the ``outputs`` array at ``at`` (``chat``: of a chat prompt)."""
    outputs: list[Output] = []
    taken = {item.name.lower(): f"inputs '{item.name}'" for item in inputs}
    for index, item in enumerate(raw):
        key = f"{at}[{index}]"
        name = item["name"]
        require_identifier(name, file, f"{key}.name")
        problem = output_problem(name, chat)
        if problem:
            raise SpecError(file, f"{key}.name", problem)
        if name.lower() in taken:
            raise SpecError(
                file,
                f"{key}.name",
                f"'{name}' is already the name of {taken[name.lower()]} (a Flow has one namespace; Apex ignores case)",
            )
        taken[name.lower()] = f"outputs[{index}]"
        for field in ("label", "description"):
            problem = text_problem(item.get(field, ""))
            if problem:
                raise SpecError(file, f"{key}.{field}", problem)
        kind = item.get("type", "String")
        choices = tuple(item.get("choices", ()))
        if choices and kind != "String":
            raise SpecError(file, f"{key}.choices", f"is only for String outputs (this one is {kind})")
        for choice in choices:
            if text_problem(choice) or "\n" in choice:
                raise SpecError(file, f"{key}.choices", f"{json.dumps(choice)} must be one line of printable text")
        lowered = [c.lower() for c in choices]
        if len(set(lowered)) != len(lowered):
            raise SpecError(file, f"{key}.choices", "must not repeat a choice (answers are matched ignoring case)")
        label = item.get("label", words(name))
        outputs.append(Output(name, kind, label, item.get("description", label), choices))
    return tuple(outputs)
