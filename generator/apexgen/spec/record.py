"""The ``record`` key of a prompt: the record whose fields fill the prompt's inputs (its component on a record
page, its screen Flow) and, with ``write``, a record-triggered Flow that runs the prompt and writes the answer back.

What the spec alone can say is checked by ``read_record``, and so are the writes into the standard fields
apexgen's table describes (``standard_fields``). Whether custom objects and fields exist, and whether the
custom fields written can take what is written, is checked against the project's metadata by
``check_record_fields``, which also notes the required ones (no permission set can grant them). Standard fields
the table does not list are checked by apex-ls in ``check --deep``, because the generated Apex names them in typed
code (``new Case(Type = ...)``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from apexgen.errors import SpecError
from apexgen.spec.naming import text_problem
from apexgen.spec.standard_fields import (
    NUMBER_TYPES,
    TEXT_TYPES,
    FieldInfo,
    custom_field,
    required_custom_field_file,
    standard_field,
    standard_fields_of,
)
from apexgen.spec.types import Input, Output, RecordTrigger, Spec

_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
# The answer text itself may be written, under this key of ``write``.
TEXT_KEY = "text"
# The field types each output type can be assigned to, in Apex as in Flow (describe type names).
_FIELD_TYPES_OF = {
    "String": TEXT_TYPES,
    "Integer": NUMBER_TYPES,
    "Long": NUMBER_TYPES - {"int"},
    "Decimal": NUMBER_TYPES - {"int"},
    "Double": NUMBER_TYPES - {"int"},
    "Boolean": frozenset({"boolean"}),
    "Date": frozenset({"date"}),
    "Datetime": frozenset({"datetime"}),
    "Id": frozenset({"reference"}),
}


def read_record(
    raw: dict[str, Any] | None,
    capability: str,
    expose: tuple[str, ...],
    inputs: tuple[Input, ...],
    outputs: tuple[Output, ...],
    file: str,
    at: str,
) -> RecordTrigger | None:
    """Validate the ``record`` table at ``at`` of a prompt with these inputs and outputs (None: it has none)."""
    if raw is None:
        return None
    if capability not in ("generate", "chat"):
        raise SpecError(file, at, "only generate and chat prompts read a record's fields or write an answer to it")
    writes = "write" in raw
    if writes and "flow" not in expose:
        raise SpecError(file, at, 'needs the prompt exposed to flow (add "flow" to expose): the Flow calls its action')
    if not writes:
        _reads_only(raw, file, at)
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
    problem = text_problem(condition or "")
    if problem:  # the Flow's XML holds it
        raise SpecError(file, f"{at}.condition", problem)
    by_name = {item.name.lower(): item for item in inputs}
    mapped: dict[str, str] = {}
    for name, field in raw.get("inputs", {}).items():
        item = by_name.get(name.lower())
        if item is None:
            known = ", ".join(i.name for i in inputs) or "none"
            raise SpecError(file, f"{at}.inputs.{name}", f"is not an input of this prompt (inputs: {known})")
        _field(field, file, f"{at}.inputs.{name}")
        mapped[item.name] = field
    for item in inputs if writes else ():  # without write, the component and the screen ask for the rest
        if item.required and item.name not in mapped:
            raise SpecError(
                file, f"{at}.inputs", f"must give the required input '{item.name}' a field (the action needs it)"
            )
    writable = {TEXT_KEY: TEXT_KEY} | {o.name.lower(): o.name for o in outputs}
    written: dict[str, str] = {}
    write: list[tuple[str, str]] = []
    for key, field in raw.get("write", {}).items():
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
    rewrite = _rewrite(raw.get("rewrite", []), mapped, written, file, at)
    for name, field in write:
        if field.lower() in {f.lower() for f in mapped.values()} and field.lower() not in rewrite:
            raise SpecError(
                file,
                f"{at}.write.{name}",
                f"writes {field}, which the prompt also reads (inputs); add it to record.rewrite to say that the "
                "answer may replace what it was made from",
            )
    record = RecordTrigger(
        object=obj,
        when=when,
        condition=condition,
        inputs=tuple((i.name, mapped[i.name]) for i in inputs if i.name in mapped),
        write=tuple(write),
        overwrite=raw.get("overwrite", "unchanged"),
        rewrite=tuple(sorted(rewrite)),
    )
    for key, field in [*((f"inputs.{n}", f) for n, f in record.inputs), *((f"write.{n}", f) for n, f in write)]:
        _not_a_misspelling(obj, field, file, f"{at}.{key}")
    for name, field in write:
        info = standard_field(obj, field)
        if info is not None:
            check_write(info, name, outputs, file, f"{at}.write.{name}")
    return record


def _reads_only(raw: dict[str, Any], file: str, at: str) -> None:
    """A ``record`` without ``write`` only fills inputs from the record: it needs ``inputs``, and the keys of the
    trigger (which runs only to write) have no meaning."""
    trigger_keys = [key for key in ("when", "condition", "overwrite", "rewrite") if key in raw]
    if trigger_keys:
        raise SpecError(
            file,
            f"{at}.{trigger_keys[0]}",
            "is only for a record the answer is written to (add write): without write no Flow runs on saves",
        )
    if not raw.get("inputs"):
        raise SpecError(
            file,
            f"{at}.inputs",
            "must map at least one input to a field: without write, record only fills inputs from the record",
        )


def check_record_surfaces(
    record: RecordTrigger | None, lwc_targets: tuple[str, ...], flows: tuple[str, ...], file: str, at: str
) -> None:
    """A ``record`` without ``write`` has somewhere to go: only the component on a record page and the screen
    Flow read the record's fields."""
    if record is None or record.write or "record_page" in lwc_targets or "screen" in flows:
        return
    raise SpecError(
        file,
        at,
        "without write, the record's fields fill the inputs of the component on a record page and of the screen "
        'Flow, and this prompt has neither: expose it to lwc on a record_page, add "screen" to flows, or add write',
    )


def _not_a_misspelling(obj: str, field: str, file: str, key: str) -> None:
    """Refuse a standard field the table does not list but one letter or two from one it does (Descriptionn).

    The table lists the fields apexgen's examples use, not every field of the object (an org's features
    add some), so an unlisted field is otherwise left to apex-ls; one this close to a listed field is a typo
    the deploy would refuse after a check that passed."""
    import difflib

    if "__" in field or standard_field(obj, field) is not None:
        return
    listed = standard_fields_of(obj)
    close = difflib.get_close_matches(field.lower(), [f.lower() for f in listed], n=1, cutoff=0.9)
    if close and abs(len(close[0]) - len(field)) <= 2:
        name = next(f for f in listed if f.lower() == close[0])
        raise SpecError(file, key, f"{obj}.{field} is not a field of {obj}; did you mean {name}?")


def _rewrite(raw: list[str], mapped: dict[str, str], written: dict[str, str], file: str, at: str) -> set[str]:
    """The fields ``rewrite`` names (lower case): each one read and written, or the spec is wrong."""
    read = {field.lower() for field in mapped.values()}
    for index, field in enumerate(raw):
        if field.lower() not in read or field.lower() not in written:
            raise SpecError(
                file, f"{at}.rewrite[{index}]", f"names {field}, which is not both read (inputs) and written (write)"
            )
    return {field.lower() for field in raw}


def check_write(info: FieldInfo, name: str, outputs: tuple[Output, ...], file: str, key: str) -> None:
    """The field can take what ``write`` puts in it: the answer text (``name`` text) or the output ``name``."""
    output = next((o for o in outputs if o.name == name), None)
    kind = output.type if output else "String"
    choices = output.choices if output else ()
    what = "the answer text" if output is None else f"output {name}"
    if info.calculated:
        raise SpecError(file, key, f"writes {info.qualified}, a formula or roll-up field: it cannot be written")
    if info.read_only:
        raise SpecError(
            file,
            key,
            f"writes {info.qualified}, which is read-only (the API cannot update it"
            + (", only set it when the record is created)" if info.createable else ")"),
        )
    if info.type not in _FIELD_TYPES_OF[kind]:
        raise SpecError(
            file, key, f"writes {what} ({kind}) into {info.qualified}, a {info.type} field that cannot hold it"
        )
    if info.type in ("picklist", "string") and not choices:
        shape = (
            "a picklist, which takes only its values"
            if info.type == "picklist"
            else f"a text field of {info.length} characters"
        )
        raise SpecError(
            file,
            key,
            f"writes free text ({what}) into {info.qualified}, {shape}: write free text to a text area field, "
            "or give the output choices",
        )
    if info.type == "picklist" and info.picklist_values is not None:
        missing = [c for c in choices if c not in info.picklist_values]
        if missing:
            raise SpecError(
                file,
                key,
                f"writes choices {', '.join(missing)} that the picklist {info.qualified} does not have "
                f"(its values: {', '.join(info.picklist_values)})",
            )
    longest = max(choices, key=len, default="")
    if info.length is not None and info.type != "textarea" and len(longest) > info.length:
        raise SpecError(
            file, key, f"writes the choice '{longest}' into {info.qualified}, which holds {info.length} characters"
        )


def _field(field: str, file: str, key: str) -> None:
    if not _API_NAME.match(field) or field.lower() == "id":
        raise SpecError(file, key, f"'{field}' is not a field API name such as Subject or Category__c")


def check_record_fields(spec: Spec, package_dirs: list[Path]) -> Spec:
    """Custom objects and fields the record triggers name exist in the project's metadata; returns the spec with
    each record's ``required_fields``, the custom fields it names that the project defines as required or
    master-detail (the permission set leaves them out)."""
    prompts = []
    for index, prompt in enumerate(spec.prompts):
        record = prompt.record
        if record is None:
            prompts.append(prompt)
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
        required = []
        for field in record.fields():
            files = [f / "fields" / f"{field}.field-meta.xml" for f in folders]
            if field.endswith("__c") and not any(f.exists() for f in files):
                raise SpecError(
                    spec.path,
                    f"{at}",
                    f"custom field {record.object}.{field} is not in the project "
                    f"(objects/{record.object}/fields/{field}.field-meta.xml)",
                )
            if field.endswith("__c") and any(required_custom_field_file(f) for f in files):
                required.append(field)
        for name, field in record.write:
            info = next(
                (i for f in folders if (i := custom_field(record.object, f / "fields" / f"{field}.field-meta.xml"))),
                None,
            )
            if info is not None:
                check_write(info, name, prompt.outputs, spec.path, f"{at}.write.{name}")
        prompts.append(replace(prompt, record=replace(record, required_fields=tuple(required))))
    return replace(spec, prompts=tuple(prompts))
