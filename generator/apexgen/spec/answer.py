"""Reading a prompt's typed outputs from the model's answer, as the generated <prefix>JsonAnswer does.

The prompt asks for a JSON object; models often wrap it in a code fence or a sentence, so the object
is taken from the first '{' to the last '}'. Every mismatch is collected, so one message says all that
did not match. The messages are the generated Apex's, word for word.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from apexgen.spec.types import OUTPUT_TYPE_WORDS, Output
from apexgen.untrusted import json_loads

MISMATCH_PREFIX = "The answer does not match the outputs: "
_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}([A-Za-z0-9]{3})?\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def find_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The JSON object in ``text``, or None and why there is none."""
    first, last = text.find("{"), text.rfind("}")
    if first < 0 or last < first:
        return None, "the answer holds no JSON object"
    try:
        value = json_loads(text[first : last + 1])
    except ValueError:
        return None, "the JSON object in the answer is not valid"
    if not isinstance(value, dict):
        return None, "the answer holds no JSON object"
    return value, None


def _convert(item: Output, value: Any) -> Any:
    """``value`` as the output's type, or raise ValueError."""
    kind = item.type
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "String" and isinstance(value, str):
        return value
    if kind in ("Integer", "Long") and number and isinstance(value, int):
        return value
    if kind in ("Decimal", "Double") and number:
        return value
    if kind == "Boolean" and isinstance(value, bool):
        return value
    if kind == "Date" and isinstance(value, str) and _DATE.match(value):
        return date.fromisoformat(value)
    if kind == "Datetime" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind == "Id" and isinstance(value, str) and _RECORD_ID.match(value):
        return value
    raise ValueError(kind)


def read_outputs(outputs: tuple[Output, ...], text: str) -> tuple[dict[str, Any], list[str]]:
    """The typed values of ``outputs`` in the answer ``text``, and what did not match (empty when all did)."""
    fields, problem = find_object(text)
    if fields is None:
        return {}, [problem or ""]
    values: dict[str, Any] = {}
    problems: list[str] = []
    for item in outputs:
        value = fields.get(item.name)
        if value is None:
            problems.append(f'"{item.name}" is missing')
            continue
        try:
            converted = _convert(item, value)
        except ValueError:
            problems.append(f'"{item.name}" is not {OUTPUT_TYPE_WORDS[item.type]}: {json.dumps(value)}')
            continue
        if item.choices:
            chosen = next((c for c in item.choices if c.lower() == converted.lower()), None)
            if chosen is None:
                problems.append(f'"{item.name}" is {json.dumps(value)}, not one of: {", ".join(item.choices)}')
                continue
            converted = chosen
        values[item.name] = converted
    return values, problems


def mismatch_message(problems: list[str]) -> str:
    """The message of the failure the generated service throws for these mismatches."""
    return MISMATCH_PREFIX + "; ".join(problems)
