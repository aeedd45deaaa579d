"""The Jinja environment that renders every template, and the helpers templates call.

Templates live in the repository's top-level ``templates/`` folder, which the wheel carries inside the
package; the environment keeps compiled templates in apexgen's per-user cache.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from apexgen.paths import user_cache_dir
from apexgen.spec.naming import annotation_string, apex_string, doc_text
from apexgen.spec.types import CHAT_HISTORY_MAX_TURNS, CHAT_TURN_MAX_LENGTH, Input, Output, Prompt

# One sample value per input type, as Apex source and as Apex's String.valueOf prints it: generated
# tests pass the first to the service and expect the second in the merged prompt.
SAMPLE_VALUES: dict[str, tuple[str, str]] = {
    "String": ("'{label}'", "{label}"),
    "Integer": ("42", "42"),
    "Long": ("42L", "42"),
    "Decimal": ("4.2", "4.2"),
    "Double": ("4.2", "4.2"),
    "Boolean": ("true", "true"),
    "Date": ("Date.newInstance(2024, 1, 31)", "2024-01-31"),
    "Datetime": ("Datetime.newInstanceGmt(2024, 1, 31, 12, 30, 0)", "2024-01-31 12:30:00"),
    "Id": ("Id.valueOf('005000000000001AAA')", "005000000000001AAA"),
}


def templates_root() -> Path:
    """The templates folder: inside the installed wheel, or at the top of a source checkout."""
    packaged = Path(str(resources.files("apexgen"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "templates"


def _bytecode_cache() -> Any:
    """Compiled templates kept between runs (Jinja checks them against the template's modification
    time), or none when the cache folder cannot be made."""
    import jinja2

    folder = user_cache_dir() / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


@cache
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_root())),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        auto_reload=False,  # templates do not change while apexgen runs: no stat per rendered file
    )
    env.filters["apex_string"] = apex_string
    env.filters["annotation_string"] = annotation_string
    env.filters["doc"] = doc_lines
    env.globals["sample"] = sample_value
    env.globals["chat_max_turns"] = CHAT_HISTORY_MAX_TURNS
    env.globals["chat_max_length"] = CHAT_TURN_MAX_LENGTH
    env.globals["sample_output"] = sample_output
    env.globals["sample_answer"] = sample_answer
    env.globals["answer_mismatch"] = answer_mismatch
    env.globals["person_value"] = person_value
    return env


def doc_lines(value: str, indent: int = 0) -> str:
    """Text for an ApexDoc block: the first line as is, each further line prefixed with `` * ``."""
    pad = " " * indent
    lines = doc_text(value)
    return lines[0] + "".join(f"\n{pad} *" + (f" {line}" if line else "") for line in lines[1:])


def sample_value(item: Input) -> str:
    """The Apex expression a generated test passes for ``item``."""
    if item.sample is not None:
        return item.sample
    source, _ = SAMPLE_VALUES[item.type]
    return source.replace("'{label}'", apex_string(f"Sample {item.label}"))


# One sample value per output type as the JSON of a well-formed answer holds it; generated tests
# expect the value ``sample_output`` writes in Apex.
SAMPLE_JSON: dict[str, object] = {
    "Integer": 42,
    "Long": 42,
    "Decimal": 4.2,
    "Double": 4.2,
    "Boolean": True,
    "Date": "2024-01-31",
    "Datetime": "2024-01-31T12:30:00Z",
    "Id": "005000000000001AAA",
}


def _sample_text(item: Output) -> str:
    return item.choices[0] if item.choices else f"Sample {item.label}"


def sample_output(item: Output) -> str:
    """The Apex value generated tests expect for ``item`` after reading ``sample_answer``."""
    if item.type == "String":
        return apex_string(_sample_text(item))
    source, _ = SAMPLE_VALUES[item.type]
    return source


# A value a person sets by hand, different from what the sample answer writes: generated tests of the overwrite
# guard set it after the record was queued.
_PERSON_VALUES = {
    "Integer": "7",
    "Long": "7L",
    "Decimal": "0.5",
    "Double": "0.5",
    "Boolean": "false",
    "Date": "Date.newInstance(2020, 2, 2)",
    "Datetime": "Datetime.newInstanceGmt(2020, 2, 2, 2, 2, 2)",
    "Id": "null",
}


def person_value(prompt: Prompt, name: str) -> str:
    """The Apex value a person writes by hand into the field that output ``name`` (or ``text``) fills."""
    output = next((o for o in prompt.outputs if o.name == name), None)
    if output is None or output.type == "String":
        choices = output.choices if output else ()
        return apex_string(choices[-1] if len(choices) > 1 else "Set by a person")
    return _PERSON_VALUES[output.type]


def sample_answer(prompt: Prompt) -> str:
    """A well-formed answer to ``prompt``'s outputs, wrapped in a code fence as models often write it."""
    import json

    values = {
        item.name: _sample_text(item) if item.type == "String" else SAMPLE_JSON[item.type] for item in prompt.outputs
    }
    return "```json\n" + json.dumps(values) + "\n```"


def answer_mismatch(prompt: Prompt, text: str) -> str:
    """The message the generated service fails with when the model answers ``text``."""
    from apexgen.spec.answer import mismatch_message, read_outputs

    _, problems = read_outputs(prompt.outputs, text)
    return mismatch_message(problems)


def render(template: str, **context: Any) -> str:
    return str(environment().get_template(template).render(**context))
