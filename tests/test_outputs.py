"""Typed outputs: the spec key, the answer reader the CLI and the generated Apex share, and what is generated."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from lxml import etree

from apexgen.generate.plan import render_plan
from apexgen.spec.answer import mismatch_message, read_outputs
from apexgen.spec.load import parse_spec
from apexgen.spec.naming import apex_string
from apexgen.spec.types import Output
from tests.conftest import unplaced, write_spec
from tests.test_spec import HEADER, VALID_PROMPT

OUTPUTS = """outputs = [
  { name = "category", choices = ["Billing", "Technical"], description = "The kind of problem" },
  { name = "priority", type = "Integer" },
]
"""
SPEC = HEADER + VALID_PROMPT + 'flows = ["autolaunched"]\n' + OUTPUTS
NS = {"m": "http://soap.sforce.com/2006/04/metadata"}


def generated(spec: str) -> dict[str, str]:
    return {f.path.rsplit("/", 1)[1]: f.content for f in render_plan(parse_spec(spec))}


def test_outputs_are_read_with_their_defaults():
    (prompt,) = parse_spec(SPEC).prompts

    assert prompt.outputs == (
        Output("category", "String", "Category", "The kind of problem", ("Billing", "Technical")),
        Output("priority", "Integer", "Priority", "Priority", ()),
    )
    assert prompt.render_prompt({"text": "x"}) == (
        "Summarize: x\n\nAnswer with only a JSON object that has these keys:\n"
        '- "category" (text, one of: "Billing", "Technical"): The kind of problem\n'
        '- "priority" (a whole number): Priority'
    )


BAD_OUTPUTS = [
    (
        'outputs = [{ name = "n", type = "Integer", choices = ["1"] }]',
        "prompt[0].outputs[0].choices",
        "only for String",
    ),
    ('outputs = [{ name = "c", choices = ["A", "a"] }]', "prompt[0].outputs[0].choices", "must not repeat"),
    ('outputs = [{ name = "c", choices = ["A\\nB"] }]', "prompt[0].outputs[0].choices", "must be one line"),
    ('outputs = [{ name = "Body" }]', "prompt[0].outputs[0].name", "already the name of inputs 'body'"),
    ('outputs = [{ name = "text" }]', "prompt[0].outputs[0].name", "generated code uses itself"),
    ('outputs = [{ name = "finishReason" }]', "prompt[0].outputs[0].name", "generated code uses itself"),
    ('outputs = [{ name = "a" }, { name = "A" }]', "prompt[0].outputs[1].name", "already the name of outputs[0]"),
    ('outputs = [{ name = "2x" }]', "prompt[0].outputs[0].name", "'2x'"),
    ('outputs = [{ name = "a", type = "Blob" }]', "prompt[0].outputs[0].type", "must be one of"),
    ('outputs = [{ name = "a", colour = "red" }]', "prompt[0].outputs[0].colour", "unknown key"),
    ("outputs = []", "prompt[0].outputs", "at least 1"),
]


@pytest.mark.parametrize("line, key, rule", BAD_OUTPUTS)
def test_bad_outputs_are_refused_naming_file_key_and_rule(project, cli, line, key, rule):
    write_spec(project, HEADER + VALID_PROMPT.replace("text", "body") + line + "\n")

    result = cli("generate", cwd=project)

    assert result.exit_code == 2
    assert f"apexgen.toml: {key}: " in unplaced(result.output) and rule in unplaced(result.output), unplaced(
        result.output
    )
    assert not (project / "force-app/main/default/classes").exists() or not list(
        (project / "force-app/main/default/classes").glob("Summarize*")
    )


def test_outputs_are_only_for_text_prompts(project, cli):
    write_spec(project, HEADER + '[[prompt]]\nname = "Compare"\ncapability = "embed"\nmodel = "vectors"\n' + OUTPUTS)

    result = cli("generate", cwd=project)

    assert result.exit_code == 2
    assert "apexgen.toml: prompt[0].outputs: is not used by capability 'embed'" in unplaced(result.output)


# --- reading answers ----------------------------------------------------------------------------

ALL_TYPES = tuple(
    Output(name, kind, name, name)
    for name, kind in [
        ("s", "String"),
        ("i", "Integer"),
        ("l", "Long"),
        ("d", "Decimal"),
        ("f", "Double"),
        ("b", "Boolean"),
        ("day", "Date"),
        ("at", "Datetime"),
        ("owner", "Id"),
    ]
)
CHOICE = (Output("priority", "String", "Priority", "Priority", ("Low", "High")),)


def test_well_formed_answer_gives_typed_values():
    text = (
        '{"s": "x", "i": 3, "l": 3000000000, "d": 0.5, "f": 2, "b": true, "day": "2024-01-31",'
        ' "at": "2024-01-31T12:30:00Z", "owner": "005000000000001AAA"}'
    )

    values, problems = read_outputs(ALL_TYPES, text)

    assert problems == []
    assert values == {
        "s": "x",
        "i": 3,
        "l": 3000000000,
        "d": 0.5,
        "f": 2,
        "b": True,
        "day": date(2024, 1, 31),
        "at": datetime(2024, 1, 31, 12, 30, tzinfo=UTC),
        "owner": "005000000000001AAA",
    }


def test_braces_inside_a_string_value_do_not_end_the_object():
    """The object runs to the last '}' of the answer, whatever braces its string values hold."""
    summary = Output("summary", "String", "Summary", "Summary", ())
    text = 'Sure: {"summary": "use {x} and } then {", "priority": "low"} Anything else?'

    values, problems = read_outputs((summary, *CHOICE), text)

    assert (values, problems) == ({"summary": "use {x} and } then {", "priority": "Low"}, [])


def test_fenced_answer_with_surrounding_text_is_read_and_choices_take_the_spec_spelling():
    values, problems = read_outputs(CHOICE, 'Sure!\n```json\n{"priority": "high"}\n```\nAnything else?')

    assert (values, problems) == ({"priority": "High"}, [])


def test_partial_answer_names_every_missing_key():
    values, problems = read_outputs(ALL_TYPES[:3], '{"s": "x", "i": null}')

    assert values == {"s": "x"}
    assert problems == ['"i" is missing', '"l" is missing']


@pytest.mark.parametrize(
    "text, problem",
    [
        ('{"s": "x", "i": 1', "the answer holds no JSON object"),
        ("I cannot answer that.", "the answer holds no JSON object"),
        ('{"s": x}', "the JSON object in the answer is not valid"),
    ],
)
def test_an_answer_without_a_json_object_is_one_problem(text, problem):
    assert read_outputs(ALL_TYPES, text) == ({}, [problem])


def test_wrong_types_are_named_with_their_values():
    text = (
        '{"s": 2, "i": 1.5, "l": "many", "d": "high", "f": true, "b": "yes", "day": "31/01/2024",'
        ' "at": "noon", "owner": "nobody"}'
    )

    _, problems = read_outputs(ALL_TYPES, text)

    assert problems == [
        '"s" is not text: 2',
        '"i" is not a whole number: 1.5',
        '"l" is not a whole number: "many"',
        '"d" is not a number: "high"',
        '"f" is not a number: true',
        '"b" is not true or false: "yes"',
        '"day" is not a date as YYYY-MM-DD: "31/01/2024"',
        '"at" is not a date and time as YYYY-MM-DDThh:mm:ssZ: "noon"',
        '"owner" is not a Salesforce record Id: "nobody"',
    ]


def test_wrong_choice_is_named_with_the_choices():
    values, problems = read_outputs(CHOICE, '{"priority": "Urgent"}')

    assert values == {}
    assert mismatch_message(problems) == (
        'The answer does not match the outputs: "priority" is "Urgent", not one of: Low, High'
    )


# --- what is generated --------------------------------------------------------------------------


def test_service_appends_the_output_format_and_reads_each_output_typed():
    files = generated(SPEC)
    (prompt,) = parse_spec(SPEC).prompts
    service = files["SummarizeService.cls"]

    assert f"OUTPUT_FORMAT = {apex_string(prompt.output_format)};" in service
    assert (
        "String prompt = AiPromptTemplate.render(TEMPLATE, values);\n        return prompt + OUTPUT_FORMAT;" in service
    )
    assert "answer.readString('category', 'Billing\\nTechnical')" in service
    assert "answer.readInteger('priority')" in service
    assert "answer.requireMatch();" in service
    assert "AiJsonAnswer.cls" in files and "AiJsonAnswerTest.cls" in files


def test_json_answer_class_exists_only_when_a_prompt_has_outputs():
    assert "AiJsonAnswer.cls" not in generated(HEADER + VALID_PROMPT)


def test_action_result_has_one_typed_variable_per_output_plus_the_raw_text():
    action = generated(SPEC)["SummarizeAction.cls"]
    result = action.split("public class Result {")[1]
    variables = {
        name: kind for kind, name in re.findall(r"@InvocableVariable\([^;]*?\)\s*public (\w+) (\w+);", result, re.S)
    }

    assert variables["category"] == "String"
    assert variables["priority"] == "Integer"
    assert variables["text"] == "String"
    assert {"totalTokens", "promptTokens", "completionTokens", "finishReason"} <= variables.keys()
    assert "result.priority = (Integer) answer.outputs.get('priority');" in action


def test_autolaunched_flow_returns_each_output():
    flow = etree.fromstring(generated(SPEC)["SummarizeFlow.flow-meta.xml"].encode())
    outputs = {
        v.findtext("m:name", namespaces=NS): v.findtext("m:dataType", namespaces=NS)
        for v in flow.findall("m:variables", NS)
        if v.findtext("m:isOutput", namespaces=NS) == "true"
    }
    received = {
        p.findtext("m:name", namespaces=NS): p.findtext("m:assignToReference", namespaces=NS)
        for p in flow.findall("m:actionCalls/m:outputParameters", NS)
    }

    assert outputs["category"] == "String" and outputs["priority"] == "Number"
    assert received["category"] == "Output_category" and received["priority"] == "Output_priority"


def test_generated_tests_expect_the_messages_the_python_reader_gives():
    files = generated(SPEC)
    (prompt,) = parse_spec(SPEC).prompts
    _, problems = read_outputs(prompt.outputs, "{}")

    assert apex_string(mismatch_message(problems)) in files["SummarizeServiceTest.cls"]


# --- apexgen models try -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models_server():
    from tests.fakes.models_api import serve_models_api

    with serve_models_api() as (running, _):
        yield running


@pytest.fixture
def models_cli(models_server):
    from tests.fakes.models_api import FakeModelsApi
    from tests.test_models_api import ModelsCli

    fake = FakeModelsApi()
    models_server.httpd.state = fake
    yield ModelsCli(models_server, fake)
    fake.stopping.set()


def _answer(text: str) -> dict:
    return {"id": "x", "generation": {"id": "g-1", "generatedText": text, "parameters": {"finish_reason": "stop"}}}


def test_try_shows_the_outputs_read_from_the_answer(models_cli, tmp_path):
    from tests.fakes.models_api import CannedReply

    (tmp_path / "apexgen.toml").write_text(SPEC, "utf-8")
    models_cli.fake.replies.append(CannedReply(200, _answer('```json\n{"category": "billing", "priority": 2}\n```')))

    result = models_cli.run("try", "Summarize", "-i", "text=refund", "--spec", str(tmp_path / "apexgen.toml"))

    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("outputs:\n  category (String): Billing\n  priority (Integer): 2\n")
    assert "finish reason: stop" in result.stderr
    (request,) = models_cli.fake.api_requests
    assert request.json()["prompt"].endswith('- "priority" (a whole number): Priority')


def test_try_reports_an_answer_that_does_not_match_the_outputs(models_cli, tmp_path):
    from tests.fakes.models_api import CannedReply

    (tmp_path / "apexgen.toml").write_text(SPEC, "utf-8")
    models_cli.fake.replies.append(CannedReply(200, _answer('{"category": "Sales", "priority": "high"}')))

    result = models_cli.run("try", "Summarize", "-i", "text=refund", "--spec", str(tmp_path / "apexgen.toml"))

    assert result.exit_code == 1
    assert (
        'The answer does not match the outputs: "category" is "Sales", not one of: Billing, Technical; '
        '"priority" is not a whole number: "high"'
    ) in result.stderr


def test_feedback_can_send_the_apps_own_context():
    files = generated(
        HEADER + '[[prompt]]\nname = "Rate"\ncapability = "feedback"\nexpose = ["flow"]\n',
    )
    client = files["AiModelsClient.cls"]
    action = files["RateAction.cls"]
    request = action.split("public class Request {")[1].split("public class Result {")[0]

    assert "body.appGenerationId = app.appGenerationId;" in client
    assert "body.appFeedback = new aiplatform.ModelsAPI_FeedbackRequest_appFeedback();" in client
    for name in ("appGenerationId", "appGeneration"):
        assert re.search(rf"@InvocableVariable\([^)]*\)\s*public String {name};", request)
    assert "required=true" not in request.split("public String comment;")[1]
    assert "appContext(request)" in action
