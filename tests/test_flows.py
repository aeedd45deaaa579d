"""Generated Flows: wired to the generated actions, every reference resolved, every element reachable."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from apexgen.generate.plan import render_plan
from apexgen.spec.load import load_spec
from tests.conftest import REPO, unplaced, write_spec
from tests.test_spec import HEADER, VALID_PROMPT

NS = {"m": "http://soap.sforce.com/2006/04/metadata"}
FLOWS = sorted((REPO / "force-app/main/default/flows").glob("*.flow-meta.xml"))
# every Flow of the reference project and of the golden cases
ALL_FLOWS = FLOWS + sorted((REPO / "tests/cases").glob("*/expected/**/*.flow-meta.xml"))
CLASSES = REPO / "force-app/main/default/classes"


def invocable_variables(action_class: str) -> tuple[set[str], set[str]]:
    """Names of the @InvocableVariable fields of the action's Request and Result classes."""
    source = (CLASSES / f"{action_class}.cls").read_text()
    request, result = source.split("public class Result {")
    variable = re.compile(r"@InvocableVariable\([^)]*\)\s*public \w+ (\w+);", re.S)
    return set(variable.findall(request)), set(variable.findall(result))


def names(flow, xpath: str) -> list[str]:
    return [e.text for e in flow.xpath(xpath, namespaces=NS)]


def test_reference_project_has_the_flows_the_spec_asks_for():
    assert [f.name for f in FLOWS] == [
        "CompareTextsFlow.flow-meta.xml",
        "DraftReplyFlow.flow-meta.xml",
        "SimilarCasesIndexFlow.flow-meta.xml",
        "SummarizeCaseFlow.flow-meta.xml",
        "SummarizeCaseScreenFlow.flow-meta.xml",
        "TriageCaseFlow.flow-meta.xml",
        "TriageCaseRecordFlow.flow-meta.xml",
    ]


@pytest.mark.parametrize("path", FLOWS, ids=[f.name for f in FLOWS])
def test_flow_is_wired_to_the_generated_actions(path):
    flow = etree.parse(str(path)).getroot()
    spec = load_spec(REPO / "apexgen.toml")

    assert flow.findtext("m:apiVersion", namespaces=NS) == spec.project.api_version
    for call in flow.findall("m:actionCalls", NS):
        action = call.findtext("m:actionName", namespaces=NS)
        assert call.findtext("m:actionType", namespaces=NS) == "apex"
        assert (CLASSES / f"{action}.cls").exists(), action
        if action in {index.indexer_class for index in spec.indexes}:
            # an index's Flow action takes the saved records' Ids: its input is named as its parameter
            source = (CLASSES / f"{action}.cls").read_text()
            parameter = re.search(r"@InvocableMethod\(.*?\)\s*public static void \w+\(List<Id> (\w+)\)", source, re.S)
            assert parameter and names(call, "m:inputParameters/m:name") == [parameter.group(1)]
            assert not names(call, "m:outputParameters/m:name")
        else:
            request, result = invocable_variables(action)
            assert set(names(call, "m:inputParameters/m:name")) <= request
            assert action in {p.action_class for p in spec.prompts}
            assert set(names(call, "m:outputParameters/m:name")) <= result
        if flow.find("m:start/m:object", NS) is None:
            assert call.find("m:faultConnector", NS) is not None, "a thrown fault must have a path"
        else:
            # the record-triggered Flow only queues: a failure to queue fails the interview, so the Flow error
            # email reports it instead of a fault path that would hide it
            assert call.find("m:faultConnector", NS) is None, "a failure to queue must not vanish"


@pytest.mark.parametrize("path", ALL_FLOWS, ids=[f.name for f in ALL_FLOWS])
def test_every_reference_resolves_and_every_element_is_reachable(path):
    flow = etree.parse(str(path)).getroot()
    elements = {}
    for node in flow:
        name = node.findtext("m:name", namespaces=NS)
        if name and etree.QName(node).localname in (
            "actionCalls",
            "assignments",
            "decisions",
            "screens",
            "recordUpdates",
            "recordLookups",
        ):
            elements[name] = node
    declared = set(names(flow, "m:variables/m:name")) | set(names(flow, "m:choices/m:name"))
    declared |= set(names(flow, "m:screens/m:fields/m:name"))

    for target in names(flow, "//m:targetReference"):
        assert target in elements, f"connector to missing element {target}"
    for reference in names(flow, "//m:elementReference | //m:leftValueReference | //m:assignToReference"):
        assert reference.startswith(("$Flow.", "$Record.")) or reference in declared, f"unknown reference {reference}"
    for merge_field in re.findall(r"\{!([^}]+)\}", etree.tostring(flow, encoding="unicode")):
        assert merge_field.startswith(("$Flow.", "$Record.")) or merge_field in declared, merge_field
    for choice in names(flow, "//m:choiceReferences"):
        assert choice in declared

    # the start connects to the first element, or (record-triggered) its asynchronous path does
    reachable, queue = set(), names(flow, "m:start//m:targetReference")
    assert queue, "nothing follows the start"
    while queue:
        name = queue.pop()
        if name not in reachable:
            reachable.add(name)
            queue += names(elements[name], ".//m:targetReference")
    assert reachable == set(elements), f"unreachable: {set(elements) - reachable}"


def test_autolaunched_flow_exposes_inputs_and_results():
    flow = etree.parse(str(REPO / "force-app/main/default/flows/SummarizeCaseFlow.flow-meta.xml")).getroot()
    inputs = names(flow, "m:variables[m:isInput='true']/m:name")
    outputs = names(flow, "m:variables[m:isOutput='true']/m:name")
    assert sorted(inputs) == ["description", "subject"]
    assert sorted(outputs) == ["answer", "errorMessage", "generationId", "succeeded", "toxicityDetected"]
    assert flow.findtext("m:processType", namespaces=NS) == "AutoLaunchedFlow"


def test_screen_flow_sends_the_rating_with_the_generation_id():
    flow = etree.parse(str(REPO / "force-app/main/default/flows/SummarizeCaseScreenFlow.flow-meta.xml")).getroot()
    feedback = flow.xpath("m:actionCalls[m:name='Send_Feedback']", namespaces=NS)[0]
    assert feedback.findtext("m:actionName", namespaces=NS) == "RateAnswerAction"
    sent = {
        p.findtext("m:name", namespaces=NS): p.findtext("m:value/m:elementReference", namespaces=NS)
        for p in feedback.findall("m:inputParameters", NS)
    }
    assert sent == {"generationId": "Call_Generation_Id", "rating": "Feedback_Rating", "comment": "Feedback_Comment"}
    assert flow.findtext("m:processType", namespaces=NS) == "Flow"


FLOW_PROMPT = VALID_PROMPT

BAD_FLOW_SPECS = [
    (
        FLOW_PROMPT + 'expose = ["lwc"]\nflows = ["autolaunched"]\n',
        "prompt[0].flows",
        "needs the prompt exposed to flow",
    ),
    (
        FLOW_PROMPT.replace('"generate"', '"embed"')
        .replace('template = "Summarize: {text}"\ninputs = [{ name = "text" }]\n', "")
        .replace('"fast"', '"vectors"')
        + 'flows = ["screen"]\n',
        "prompt[0].flows",
        "only generate and chat prompts",
    ),
    (FLOW_PROMPT + 'feedback = "Summarize"\n', "prompt[0].feedback", "'Summarize' is not a feedback prompt"),
    (
        FLOW_PROMPT
        + 'flows = ["screen"]\nfeedback = "Rate"\n\n[[prompt]]\nname = "Rate"\ncapability = "feedback"\nexpose = ["lwc"]\n',
        "prompt[0].feedback",
        "must be exposed to flow too",
    ),
    (
        FLOW_PROMPT.replace("{text}", "{answer}").replace('"text"', '"answer"'),
        "prompt[0].inputs[0].name",
        "generated code uses itself",
    ),
]


@pytest.mark.parametrize("text, key, rule", BAD_FLOW_SPECS)
def test_bad_flow_keys_are_refused(project, cli, text, key, rule):
    write_spec(project, HEADER + text)
    result = cli("generate", cwd=project)
    assert result.exit_code == 2
    assert f"apexgen.toml: {key}: " in unplaced(result.output) and rule in unplaced(result.output), unplaced(
        result.output
    )


def test_flow_input_types_follow_the_apex_types():
    text = (
        HEADER
        + FLOW_PROMPT.replace("{text}", "{text} {count} {due}").replace(
            '[{ name = "text" }]',
            '[{ name = "text" }, { name = "count", type = "Integer" }, { name = "due", type = "Datetime" }]',
        )
        + 'flows = ["autolaunched"]\n'
    )
    from apexgen.spec.load import parse_spec

    flow_file = next(f for f in render_plan(parse_spec(text)) if f.path.endswith("SummarizeFlow.flow-meta.xml"))
    flow = etree.fromstring(flow_file.content.encode())
    types = {
        v.findtext("m:name", namespaces=NS): (
            v.findtext("m:dataType", namespaces=NS),
            v.findtext("m:scale", namespaces=NS),
        )
        for v in flow.findall("m:variables", NS)
    }
    assert types["count"] == ("Number", "0")
    assert types["due"] == ("DateTime", None)
    assert types["text"] == ("String", None)


def _projects() -> list:
    from tests.test_golden import CASE_NAMES, CASES

    return [REPO / "force-app"] + [CASES / case / "expected" for case in CASE_NAMES]


@pytest.mark.parametrize("root", _projects(), ids=lambda p: p.parent.name if p.name == "expected" else "reference")
def test_flow_starting_apex_tests_reference_each_generated_autolaunched_flow(root):
    """Active Flows deploy to production only with test coverage: a test class starts each one, through
    Flow.Interview or, for a record-triggered Flow, by saving a record of its object."""
    flows, triggered_by = {}, {}
    for path in root.rglob("*.flow-meta.xml"):
        flow = etree.parse(str(path)).getroot()
        if flow.findtext("m:processType", namespaces=NS) == "AutoLaunchedFlow":
            name = path.name.removesuffix(".flow-meta.xml")
            flows[name] = flow.findtext("m:status", namespaces=NS)
            if flow.find("m:start/m:object", NS) is not None:
                triggered_by[name] = flow.findtext("m:start/m:object", namespaces=NS)
    started = set()
    for test_class in root.rglob("*Test.cls"):
        source = test_class.read_text("utf-8")
        if "@IsTest" not in source:
            continue
        calls = re.findall(r"Flow\.Interview\.createInterview\(\s*(?:'\w+',\s*)?'(\w+)',", source)
        started |= {name for name in calls if re.search(r"\binterview\.start\(\)", source)}
        started |= {
            name
            for name, obj in triggered_by.items()
            if f"{obj} record = ({obj}) " in source and ".build(" in source and "insert as user record;" in source
        }

    assert set(flows) <= started, f"Flows no test starts: {set(flows) - started}"
    assert all(status == "Active" for status in flows.values())


def test_record_flow_only_queues_the_record_after_commit():
    flow = etree.parse(str(REPO / "force-app/main/default/flows/TriageCaseRecordFlow.flow-meta.xml")).getroot()
    start = flow.find("m:start", NS)

    assert start.findtext("m:object", namespaces=NS) == "Case"
    assert start.findtext("m:triggerType", namespaces=NS) == "RecordAfterSave"
    assert start.findtext("m:recordTriggerType", namespaces=NS) == "Create"
    assert start.find("m:connector", NS) is None, "nothing may run before the save is committed"
    (path,) = start.findall("m:scheduledPaths", NS)
    assert path.findtext("m:pathType", namespaces=NS) == "AsyncAfterCommit"
    assert path.findtext("m:connector/m:targetReference", namespaces=NS) == "Queue_Record"

    (call,) = flow.findall("m:actionCalls", NS)
    sent = {
        p.findtext("m:name", namespaces=NS): p.findtext("m:value/*", namespaces=NS)
        for p in call.findall("m:inputParameters", NS)
    }
    assert sent == {
        "subject": "$Record.Subject",
        "description": "$Record.Description",
        "recordId": "$Record.Id",
        "writeToRecord": "true",
    }
    assert call.findtext("m:inputParameters[m:name='writeToRecord']/m:value/m:booleanValue", namespaces=NS) == "true"
    request, _ = invocable_variables("TriageCaseAction")
    assert set(sent) <= request
    # the job writes the answer under a row lock: the Flow writes nothing and decides nothing
    assert flow.find("m:recordUpdates", NS) is None
    assert flow.find("m:decisions", NS) is None
    assert call.find("m:connector", NS) is None


def test_screen_flow_warns_of_toxicity_and_shows_a_failed_rating():
    flow = etree.parse(str(REPO / "force-app/main/default/flows/SummarizeCaseScreenFlow.flow-meta.xml")).getroot()
    answer = flow.xpath("m:screens[m:name='Show_Answer']", namespaces=NS)[0]
    warning = answer.xpath("m:fields[m:name='Toxicity_Warning']", namespaces=NS)[0]
    condition = warning.find("m:visibilityRule/m:conditions", NS)

    assert condition.findtext("m:leftValueReference", namespaces=NS) == "Call_Toxicity_Detected"
    assert condition.findtext("m:rightValue/m:booleanValue", namespaces=NS) == "true"
    assert "toxic" in warning.findtext("m:fieldText", namespaces=NS)

    feedback = flow.xpath("m:actionCalls[m:name='Send_Feedback']", namespaces=NS)[0]
    received = {
        p.findtext("m:name", namespaces=NS): p.findtext("m:assignToReference", namespaces=NS)
        for p in feedback.findall("m:outputParameters", NS)
    }
    assert received == {"isSuccess": "Feedback_Succeeded", "errorMessage": "Feedback_Error"}
    assert feedback.findtext("m:connector/m:targetReference", namespaces=NS) == "Check_Feedback"
    check = flow.xpath("m:decisions[m:name='Check_Feedback']", namespaces=NS)[0]
    assert check.findtext("m:defaultConnector/m:targetReference", namespaces=NS) == "Show_Feedback_Error"
    shown = flow.xpath("m:screens[m:name='Show_Feedback_Error']/m:fields/m:fieldText", namespaces=NS)[0].text
    assert "{!Feedback_Error}" in shown


def test_screen_flow_of_a_record_prompt_fills_the_inputs_from_the_record():
    path = REPO / "tests/cases/record-trigger/expected/force-app/main/default/flows/ExplainCaseScreenFlow.flow-meta.xml"
    flow = etree.parse(str(path)).getroot()
    record_id = flow.xpath("m:variables[m:name='recordId']", namespaces=NS)[0]
    lookup = flow.find("m:recordLookups", NS)
    question = flow.xpath("m:screens[m:name='Enter_Inputs']/m:fields[m:name='question']", namespaces=NS)[0]

    assert record_id.findtext("m:isInput", namespaces=NS) == "true"
    assert flow.findtext("m:start/m:connector/m:targetReference", namespaces=NS) == "Get_Record"
    assert lookup.findtext("m:object", namespaces=NS) == "Case"
    assert lookup.findtext("m:filters/m:value/m:elementReference", namespaces=NS) == "recordId"
    # no record (run outside a record page): the inputs start empty instead of failing
    assert lookup.findtext("m:assignNullValuesIfNoRecordsFound", namespaces=NS) == "true"
    assigned = {
        a.findtext("m:field", namespaces=NS): a.findtext("m:assignToReference", namespaces=NS)
        for a in lookup.findall("m:outputAssignments", NS)
    }
    assert assigned == {"Description": "Field_question"}
    assert question.findtext("m:defaultValue/m:elementReference", namespaces=NS) == "Field_question"
    # multiline = true: a text area, where the case's description keeps its lines
    assert question.findtext("m:fieldType", namespaces=NS) == "LargeTextArea"


def test_screen_flow_shows_the_answer_escaped_with_its_line_breaks():
    flow = etree.parse(str(REPO / "force-app/main/default/flows/SummarizeCaseScreenFlow.flow-meta.xml")).getroot()
    call = flow.xpath("m:actionCalls[m:name='Call_Model']", namespaces=NS)[0]
    received = {
        p.findtext("m:name", namespaces=NS): p.findtext("m:assignToReference", namespaces=NS)
        for p in call.findall("m:outputParameters", NS)
    }
    shown = flow.xpath("m:screens/m:fields[m:name='Answer_Text']/m:fieldText", namespaces=NS)[0].text
    action = (CLASSES / "SummarizeCaseAction.cls").read_text()

    assert received["textHtml"] == "Call_Answer_Html"
    assert shown == "<p>{!Call_Answer_Html}</p>"
    assert "result.textHtml = answer.text?.escapeHtml4().replace('\\n', '<br>');" in action
