"""Input length caps from the spec: a String input's max_length (default DEFAULT_MAX_LENGTH) reaches the component and
the controller; other types refuse the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from apexgen.errors import SpecError
from apexgen.generate.plan import render_plan
from apexgen.spec.load import load_spec
from apexgen.spec.types import DEFAULT_MAX_LENGTH
from tests.conftest import write_spec

SPEC = """
[project]
prefix = "Ai"
[models]
fast = "sfdc_ai__DefaultGPT41Mini"

[[prompt]]
name = "Recap"
capability = "generate"
model = "fast"
template = "Recap {notes} in {words} words"
inputs = [{ name = "notes", max_length = 120 }, { name = "words", type = "Integer" }, { name = "tone" }]
"""


def test_max_length_reaches_the_controller_and_the_component(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, SPEC.replace('"Recap {notes} in {words} words"', '"{notes} {words} {tone}"')))
    notes, words, tone = spec.prompts[0].inputs
    assert (notes.max_length, words.max_length, tone.max_length) == (120, 0, DEFAULT_MAX_LENGTH)
    files = {f.path.rsplit("/", 1)[1]: f.content for f in render_plan(spec)}
    controller = files["RecapController.cls"]
    assert "requireAtMost('Notes', notes, 120);" in controller
    assert f"requireAtMost('Tone', tone, {DEFAULT_MAX_LENGTH});" in controller
    assert "words," not in controller.split("try {")[0].split("requireAtMost")[-1]
    assert "{ name: 'notes', label: 'Notes', maxLength: 120 }" in files["recap.js"]
    assert 'max-length="120"' in files["recap.html"]


def test_max_length_is_only_for_text(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        SPEC.replace('{ name = "words", type = "Integer" }', '{ name = "words", type = "Integer", max_length = 3 }'),
    )
    with pytest.raises(SpecError) as refused:
        load_spec(spec)
    assert "prompt[0].inputs[1].max_length: is only for String inputs (this one is Integer)" in str(refused.value)
