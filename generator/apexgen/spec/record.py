"""The ``record`` key of a prompt: a record-triggered Flow that runs the prompt and writes the answer back.

What the spec alone can say is checked by ``read_record``. Whether custom objects and fields exist is
checked against the project's metadata by ``check_record_fields``; standard fields are checked by apex-ls
in ``check --deep``, because the generated Apex names them in typed code (``new Case(Type = ...)``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from apexgen.errors import SpecError
from apexgen.spec.types import Input, Output, RecordTrigger, Spec

_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
# The answer text itself may be written, under this key of ``write``.
TEXT_KEY = "text"


def read_record(
    raw: dict[str, Any],
    capability: str,
    expose: tuple[str, ...],
    inputs: tuple[Input, ...],
    outputs: tuple[Output, ...],
    file: str,
    at: str,
) -> RecordTrigger:
    """Validate the ``record`` table at ``at`` of a prompt with these inputs and outputs."""
    if capability not in ("generate", "chat"):
        raise SpecError(file, at, "only generate and chat prompts write an answer to a record")
    if "flow" not in expose:
        raise SpecError(file, at, 'needs the prompt exposed to flow (add "flow" to expose): the Flow calls its action')
    if any(item.name.lower() == "recordid" for item in inputs):
        raise SpecError(
            file, at, "needs the input name recordId for the record the answer is written to; rename that input"
        )
    obj = raw["object"]
    if not _API_NAME.match(obj):
        raise SpecError(file, f"{at}.object", f"'{obj}' is not an object API name such as Case or Ticket__c")
    when = raw.get("when", "created")
    condition = raw.get("condition")
    if when != "created" and condition is None:
        raise SpecError(
            file,
            f"{at}.condition",
            f'is required when the Flow runs on updates (when = "{when}"): the Flow updates the record it runs on, '
            "so it runs only when an update makes the condition true",
        )
    by_name = {item.name.lower(): item for item in inputs}
    mapped: dict[str, str] = {}
    for name, field in raw.get("inputs", {}).items():
        item = by_name.get(name.lower())
        if item is None:
            known = ", ".join(i.name for i in inputs) or "none"
            raise SpecError(file, f"{at}.inputs.{name}", f"is not an input of this prompt (inputs: {known})")
        _field(field, file, f"{at}.inputs.{name}")
        mapped[item.name] = field
    for item in inputs:
        if item.required and item.name not in mapped:
            raise SpecError(
                file, f"{at}.inputs", f"must give the required input '{item.name}' a field (the action needs it)"
            )
    writable = {TEXT_KEY: TEXT_KEY} | {o.name.lower(): o.name for o in outputs}
    written: dict[str, str] = {}
    write: list[tuple[str, str]] = []
    for key, field in raw["write"].items():
        name = writable.get(key.lower())
        if name is None:
            known = ", ".join(["text"] + [o.name for o in outputs])
            raise SpecError(
                file, f"{at}.write.{key}", f"is not the answer or an output of this prompt (one of: {known})"
            )
        _field(field, file, f"{at}.write.{key}")
        if field.lower() in written:
            raise SpecError(
                file, f"{at}.write.{key}", f"writes field {field}, which write.{written[field.lower()]} writes too"
            )
        written[field.lower()] = key
        write.append((name, field))
    return RecordTrigger(
        object=obj,
        when=when,
        condition=condition,
        inputs=tuple((i.name, mapped[i.name]) for i in inputs if i.name in mapped),
        write=tuple(write),
    )


def _field(field: str, file: str, key: str) -> None:
    if not _API_NAME.match(field) or field.lower() == "id":
        raise SpecError(file, key, f"'{field}' is not a field API name such as Subject or Category__c")


def check_record_fields(spec: Spec, package_dirs: list[Path]) -> None:
    """Custom objects and fields the record triggers name exist in the project's metadata."""
    for index, prompt in enumerate(spec.prompts):
        record = prompt.record
        if record is None:
            continue
        at = f"prompt[{index}].record"
        folders = [d / "main/default/objects" / record.object for d in package_dirs]
        folders += [f for d in package_dirs for f in d.glob(f"**/objects/{record.object}") if f not in folders]
        if record.object.endswith("__c") and not any(f.is_dir() for f in folders):
            raise SpecError(
                spec.path,
                f"{at}.object",
                f"custom object {record.object} is not in the project (objects/{record.object})",
            )
        for field in record.fields():
            if field.endswith("__c") and not any((f / "fields" / f"{field}.field-meta.xml").exists() for f in folders):
                raise SpecError(
                    spec.path,
                    f"{at}",
                    f"custom field {record.object}.{field} is not in the project "
                    f"(objects/{record.object}/fields/{field}.field-meta.xml)",
                )
