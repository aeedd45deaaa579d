"""Issue 23, item 7: the text of a spec (labels, descriptions, categories, topics, conditions) never makes a file
that breaks a later run: characters XML cannot hold and the carriage return are refused at load, one line
naming the key; every other character gives well-formed metadata and Apex laid out as prettier lays it out."""

from __future__ import annotations

import pytest
from lxml import etree

from apexgen.generate.apex_format import break_line
from apexgen.generate.plan import render_plan
from apexgen.spec.load import parse_spec
from apexgen.spec.naming import doc_text
from tests.conftest import tree, unplaced, write_spec
from tests.test_spec import HEADER, VALID_PROMPT

TOPIC = (
    'expose = ["agent"]\ndescription = "Summarizes a text the user gives; pass the text."\n\n[[topic]]\nname = "Help"\nlabel = "Help"\ndescription = "Helps."\n'
    'scope = "SCOPE"\nprompts = ["Summarize"]\n'
)
RECORD = (
    'expose = ["flow"]\nflows = ["autolaunched"]\nrecord = { object = "Case", when = "updated", '
    'condition = "CONDITION", inputs = { text = "Subject" }, write = { text = "Description" } }\n'
)
PLACES = [
    # (spec with TEXT where the character goes, key named)
    (HEADER + VALID_PROMPT + 'label = "TEXT"\n', "prompt[0].label"),
    (HEADER + VALID_PROMPT + 'description = "TEXT"\n', "prompt[0].description"),
    (HEADER + VALID_PROMPT + 'category = "TEXT"\n', "prompt[0].category"),
    (HEADER.replace('prefix = "Ai"', 'prefix = "Ai"\ncategory = "TEXT"') + VALID_PROMPT, "project.category"),
    (
        HEADER + VALID_PROMPT.replace('{ name = "text" }', '{ name = "text", label = "TEXT" }'),
        "prompt[0].inputs[0].label",
    ),
    (HEADER + VALID_PROMPT + 'outputs = [{ name = "a", description = "TEXT" }]\n', "prompt[0].outputs[0].description"),
    (
        HEADER
        + VALID_PROMPT.replace('{ name = "text" }', '{ name = "text", description = "The text to summarize" }')
        + TOPIC.replace("SCOPE", "TEXT"),
        "topic[0].scope",
    ),
    (HEADER + VALID_PROMPT + RECORD.replace("CONDITION", "TEXT"), "prompt[0].record.condition"),
]
REFUSED = [
    ("\\r", "must not contain a carriage return (U+000D); a line break is \\n"),
    ("\\f", "must not contain the control character U+000C"),
    ("\\u000b", "must not contain the control character U+000B"),
    ("\\uFFFE", "must not contain U+FFFE, which is not a character (no XML file may hold it)"),
    ("\\uFFFF", "must not contain U+FFFF, which is not a character (no XML file may hold it)"),
]


@pytest.mark.parametrize(("escape", "rule"), REFUSED, ids=[r[0] for r in REFUSED])
@pytest.mark.parametrize(("spec", "key"), PLACES, ids=[p[1] for p in PLACES])
def test_characters_that_break_a_later_run_are_refused_at_load(project, cli, spec, key, escape, rule):
    write_spec(project, spec.replace("TEXT", f"Before{escape}after"))
    before = tree(project)

    result = cli("generate", cwd=project)

    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert unplaced(line).startswith(f"error: apexgen.toml: {key}: {rule}"), line
    assert tree(project) == before


ODD_TEXT = "Tab\there, line\nbreak, zero\u200bwidth\u200c\u200d\u2060, BOM\ufeff, \ufdd0, \U0001f600, e\u0301, <&>'\""


def test_every_other_character_gives_well_formed_xml_and_a_clean_second_generate(project, cli):
    spec = (
        HEADER
        + VALID_PROMPT.replace('{ name = "text" }', '{ name = "text", label = "LABEL", description = "LABEL" }')
        + 'label = "LABEL"\ndescription = "LABEL"\nflows = ["autolaunched", "screen"]\n'
        + 'outputs = [{ name = "a", label = "LABEL", description = "LABEL" }]\n'
    )
    escaped = ODD_TEXT.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    write_spec(project, spec.replace("LABEL", escaped))
    assert cli("generate", cwd=project).exit_code == 0

    xml = list(project.rglob("*.xml"))
    assert len(xml) > 10
    for path in xml:
        etree.parse(str(path))  # raises on XML that is not well formed
    flow = (project / "force-app/main/default/flows/SummarizeScreenFlow.flow-meta.xml").read_text("utf-8")
    assert "zero\u200bwidth" in flow
    second = cli("generate", cwd=project)
    assert second.exit_code == 0 and "edited" not in second.output, second.output
    assert cli("check", "--project-dir", str(project)).exit_code == 0


def test_a_comment_line_loses_the_trailing_space_prettier_strips():
    """prettier trims comment lines with JavaScript's \\s, which holds U+FEFF; Python's str.strip does not."""
    assert doc_text("Ends in a BOM\ufeff\nand a no-break space\u00a0") == ["Ends in a BOM", "and a no-break space"]
    assert doc_text("Keeps\u200b") == ["Keeps\u200b"]  # a zero-width space is no white space to either


NAME = ("outputNameThatIsLong" * 4)[:80]


def test_a_call_after_a_cast_breaks_as_prettier_breaks_it():
    line = f"            result.{NAME} = (String) answer.outputs.get('{NAME}');"
    assert break_line(line) == (
        f"            result.{NAME} = (String) answer.outputs.get(",
        f"                '{NAME}'",
        "            );",
    )
    argument = f"                (String) generation.outputs.get('{NAME}'),"
    assert break_line(argument) == (
        "                (String) generation.outputs.get(",
        f"                    '{NAME}'",
        "                ),",
    )


def test_an_80_character_output_keeps_to_lines_prettier_would_keep():
    spec = parse_spec(HEADER + VALID_PROMPT + f'flows = ["autolaunched"]\noutputs = [{{ name = "{NAME}" }}]\n')
    test = next(f.content for f in render_plan(spec) if f.path.endswith("/SummarizeActionTest.cls"))
    assert f"result.{NAME}," in test and f"results[i].{NAME}" not in test  # prettier breaks results[i]⏎.name


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        (HEADER + VALID_PROMPT.replace("text", "te\\u200bxt"), "prompt[0].inputs[0].name"),
        (HEADER + VALID_PROMPT.replace('"Summarize"', '"Summa\\u200crize"'), "prompt[0].name"),
        (HEADER + VALID_PROMPT + 'outputs = [{ name = "a\\ufeffb" }]\n', "prompt[0].outputs[0].name"),
    ],
)
def test_a_zero_width_character_in_a_name_is_refused(project, cli, spec, key):
    write_spec(project, spec)

    result = cli("generate", cwd=project)

    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert unplaced(line).startswith(f"error: apexgen.toml: {key}: "), line
    assert "may contain only letters, digits and underscores" in line, line
