"""Agent-ready prompts: the spec keys (expose "agent", pii, confirm, [[topic]]), the Apex-to-schema mapping and
the GenAiFunction bundles and GenAiPlugins generated from them."""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree

from apexgen.errors import ExitCode, SpecError
from apexgen.generate.agent_schema import class_type_namer, lightning_type
from apexgen.generate.plan import render_plan
from apexgen.spec.load import parse_spec
from tests.test_spec import HEADER

NS = {"m": "http://soap.sforce.com/2006/04/metadata"}
TYPES = ["String", "Integer", "Long", "Decimal", "Double", "Boolean", "Date", "Datetime", "Id"]
# The Lightning type each Apex type maps to (GenAiFunction page of the Metadata API guide; Datetime as a string)
EXPECTED_INPUT_TYPES = {
    "String": "lightning__textType",
    "Integer": "lightning__integerType",
    "Long": "lightning__integerType",
    "Decimal": "lightning__numberType",
    "Double": "lightning__numberType",
    "Boolean": "lightning__booleanType",
    "Date": "lightning__dateType",
    "Datetime": "lightning__dateTimeStringType",
    "Id": "lightning__recordIdType",
}
# Outputs: the same, but every String may be longer than the text type's 250 characters
EXPECTED_OUTPUT_TYPES = {**EXPECTED_INPUT_TYPES, "String": "lightning__multilineTextType"}


def agent_prompt(inputs: str, outputs: str = "", extra: str = "") -> str:
    return HEADER + (
        '\n[[prompt]]\nname = "Ask"\ncapability = "generate"\nmodel = "fast"\n'
        f'template = "Answer: {{q0}}"\ninputs = [{inputs}]\n{outputs}'
        'expose = ["agent"]\ndescription = "Answers a question about the org. Use it for any question."\n' + extra
    )


def generated(spec: str) -> dict[str, str]:
    plan = render_plan(parse_spec(spec))
    return {f.path.split("main/default/", 1)[1]: f.content for f in plan if "main/default/" in f.path}


def all_types_spec() -> str:
    inputs = ", ".join(
        f'{{ name = "q{i}", type = "{kind}", description = "The {kind} the answer is about" }}'
        for i, kind in enumerate(TYPES)
    )
    outputs = "outputs = [{}]\n".format(
        ", ".join(
            f'{{ name = "o{i}", type = "{kind}", description = "A {kind} the answer holds" }}'
            for i, kind in enumerate(TYPES)
        )
    )
    template = "Answer: " + " ".join(f"{{q{i}}}" for i in range(len(TYPES)))
    return agent_prompt(inputs, outputs).replace('"Answer: {q0}"', json.dumps(template))


def test_every_apex_type_maps_to_its_lightning_type_in_inputs_and_outputs():
    files = generated(all_types_spec())
    inputs = json.loads(files["genAiFunctions/Ask/input/schema.json"])
    outputs = json.loads(files["genAiFunctions/Ask/output/schema.json"])

    for i, kind in enumerate(TYPES):
        assert inputs["properties"][f"q{i}"]["lightning:type"] == EXPECTED_INPUT_TYPES[kind], kind
        assert outputs["properties"][f"o{i}"]["lightning:type"] == EXPECTED_OUTPUT_TYPES[kind], kind
    assert inputs["lightning:type"] == outputs["lightning:type"] == "lightning__objectType"


def test_lists_and_apex_classes_map_as_agent_builder_writes_them():
    namer = class_type_namer("ListExperienceTypes", {"experiencetypeitem"}, "")

    assert lightning_type("List<ExperienceTypeItem>", False, namer) == {
        "maxItems": 2000,
        "items": {"lightning:type": "@apexClassType/c__ListExperienceTypes$ExperienceTypeItem"},
        "lightning:type": "lightning__listType",
    }
    assert lightning_type("WeatherService.Weather", False, namer) == {
        "lightning:type": "@apexClassType/c__WeatherService$Weather"
    }
    assert lightning_type("String", True, namer) == {"lightning:type": "lightning__multilineTextType"}
    assert class_type_namer("A", set(), "acme")("B") == "@apexClassType/acme__B"


def test_the_agent_sees_the_answer_outputs_and_status_but_not_tokens_or_html():
    files = generated(all_types_spec())
    outputs = json.loads(files["genAiFunctions/Ask/output/schema.json"])["properties"]

    assert set(outputs) == {"isSuccess", "text", "errorMessage"} | {f"o{i}" for i in range(len(TYPES))}
    for name, item in outputs.items():
        assert item["copilotAction:isDisplayable"] is True, name
        assert item["copilotAction:isUsedByPlanner"] is True, name
    assert outputs["text"]["title"] == "Generated Text"


def test_inputs_carry_title_description_required_pii_and_user_input():
    spec = agent_prompt(
        '{ name = "q0", label = "Question", description = "What the user asks", required = true, pii = true }'
    )
    schema = json.loads(generated(spec)["genAiFunctions/Ask/input/schema.json"])

    assert schema["required"] == ["q0"]
    assert schema["unevaluatedProperties"] is False
    assert schema["properties"]["q0"] == {
        "title": "Question",
        "description": "What the user asks",
        "lightning:type": "lightning__textType",
        "lightning:isPII": True,
        "copilotAction:isUserInput": True,
    }


def test_the_function_calls_the_flow_action_with_its_description_as_instruction():
    files = generated(agent_prompt('{ name = "q0", description = "What the user asks" }', extra="confirm = true\n"))
    root = etree.fromstring(files["genAiFunctions/Ask/Ask.genAiFunction-meta.xml"].encode())

    assert "classes/AskAction.cls" in files  # agent implies flow
    assert root.findtext("m:invocationTarget", namespaces=NS) == "AskAction"
    assert root.findtext("m:invocationTargetType", namespaces=NS) == "apex"
    assert root.findtext("m:isConfirmationRequired", namespaces=NS) == "true"
    description = root.findtext("m:description", namespaces=NS)
    assert description == "Answers a question about the org. Use it for any question."
    assert f"description='{description}'" in files["classes/AskAction.cls"]  # word for word the @InvocableMethod's
    assert "callout=true" in files["classes/AskAction.cls"]  # synchronous: the agent waits for the answer


def test_a_topic_lists_the_actions_of_its_prompts():
    topic = (
        '\n[[topic]]\nname = "Helpdesk"\ndescription = "Answers questions."\nscope = "Only answer."\n'
        'instructions = ["Ask before you answer.", "Be brief & kind."]\nprompts = ["Ask"]\n'
    )
    files = generated(agent_prompt('{ name = "q0", description = "What the user asks" }') + topic)
    root = etree.fromstring(files["genAiPlugins/Helpdesk.genAiPlugin-meta.xml"].encode())

    assert root.xpath("m:genAiFunctions/m:functionName/text()", namespaces=NS) == ["Ask"]
    assert root.xpath("m:genAiPluginInstructions/m:description/text()", namespaces=NS) == [
        "Ask before you answer.",
        "Be brief & kind.",
    ]
    assert root.findtext("m:masterLabel", namespaces=NS) == "Helpdesk"
    assert root.findtext("m:pluginType", namespaces=NS) == "Topic"


def test_a_namespace_makes_the_agent_action_global_and_nothing_else():
    spec = agent_prompt('{ name = "q0", description = "What the user asks" }').replace(
        'prefix = "Ai"', 'prefix = "Ai"\nnamespace = "acme"'
    )
    files = generated(spec.replace('expose = ["agent"]', 'expose = ["agent", "lwc"]'))

    action = files["classes/AskAction.cls"]
    assert re.search(r"^global with sharing class AskAction", action, re.M)
    assert re.search(r"global class Request", action) and re.search(r"global class Result", action)
    assert all(line.startswith("global") for line in re.findall(r"@InvocableVariable\([^)]*\)\s*(\w+)", action))
    assert "global" not in files["classes/AskService.cls"]
    assert "global" not in files["classes/AskController.cls"]


def test_a_record_prompt_hides_the_record_id_from_the_agent():
    spec = HEADER + (
        '\n[[prompt]]\nname = "Tag"\ncapability = "generate"\nmodel = "fast"\ntemplate = "Tag: {subject}"\n'
        'inputs = [{ name = "subject", description = "The subject of the case" }]\n'
        'outputs = [{ name = "tag", choices = ["Billing", "Other"], description = "The kind of case" }]\n'
        'expose = ["agent"]\n'
        'record = { object = "Case", inputs = { subject = "Subject" }, write = { tag = "Type" } }\n'
        'description = "Tags a case with one word."\n'
    )
    files = generated(spec)

    assert "recordId" in files["classes/TagAction.cls"]
    assert list(json.loads(files["genAiFunctions/Tag/input/schema.json"])["properties"]) == ["subject"]


BAD = [
    (agent_prompt('{ name = "q0" }'), "prompt[0].inputs[0].description"),
    (agent_prompt('{ name = "q0", label = "Q", description = "q" }'), "prompt[0].inputs[0].description"),
    (
        agent_prompt('{ name = "q0", description = "The question" }', 'outputs = [{ name = "mood" }]\n'),
        "prompt[0].outputs[0].description",
    ),
    (
        agent_prompt('{ name = "q0", description = "The question" }').replace(
            'description = "Answers a question about the org. Use it for any question."\n', 'label = "Ask It"\n'
        ),
        "prompt[0].description",
    ),
    (
        agent_prompt('{ name = "q0", description = "The question" }').replace(
            'description = "Answers a question about the org. Use it for any question."', 'description = "ask"'
        ),
        "prompt[0].description",
    ),
    (
        agent_prompt('{ name = "q0", pii = true }').replace('expose = ["agent"]', 'expose = ["flow"]'),
        "prompt[0].inputs[0].pii",
    ),
    (
        agent_prompt('{ name = "q0" }', extra="confirm = true\n").replace('expose = ["agent"]', 'expose = ["flow"]'),
        "prompt[0].confirm",
    ),
    (
        agent_prompt('{ name = "q0", description = "The question" }')
        + '[[topic]]\nname = "T"\ndescription = "d"\nscope = "s"\nprompts = ["Nope"]\n',
        "topic[0].prompts[0]",
    ),
    (
        agent_prompt('{ name = "q0", description = "The question" }')
        + '[[topic]]\nname = "T"\ndescription = "d"\nscope = "s"\nprompts = ["Ask"]\n'
        + '[[topic]]\nname = "t"\ndescription = "d"\nscope = "s"\nprompts = ["Ask"]\n',
        "topic[1].name",
    ),
]


@pytest.mark.parametrize(("spec", "key"), BAD)
def test_agent_rules_name_the_key_and_exit_2(spec, key):
    with pytest.raises(SpecError) as caught:
        parse_spec(spec)

    assert caught.value.key == key
    assert caught.value.exit_code == ExitCode.USAGE
    assert "\n" not in str(caught.value)
