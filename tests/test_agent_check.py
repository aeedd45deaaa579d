"""The fast check of agent metadata: each defect planted in a small project is found at its file and line, with
the severity of the check's certainty rule; a project that agrees with itself has no finding above info."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apexgen.check.agent import check_agent_metadata
from apexgen.check.fast import check_sfdx_project
from apexgen.check.findings import BLOCKER, Finding

ACTION = """public with sharing class LookUpOrder {
    @InvocableMethod(label='Look Up Order' description='Finds an order by its number.')
    public static List<Result> run(List<Request> requests) {
        return new List<Result>();
    }

    public class Request {
        @InvocableVariable(label='Order Number' description='The number on the receipt' required=true)
        public String orderNumber;

        @InvocableVariable(description='Include the lines')
        public Boolean withLines;
    }

    public class Result {
        @InvocableVariable(label='Total' description='What the order cost')
        public Decimal total;

        @InvocableVariable(description='The lines of the order')
        public List<Line> lines;
    }

    public class Line {
        public String product;
    }
}
"""
META = """<?xml version="1.0" encoding="UTF-8"?>
<GenAiFunction xmlns="http://soap.sforce.com/2006/04/metadata">
    <description>Finds an order by its number.</description>
    <invocationTarget>LookUpOrder</invocationTarget>
    <invocationTargetType>apex</invocationTargetType>
    <isConfirmationRequired>false</isConfirmationRequired>
    <masterLabel>Look Up Order</masterLabel>
</GenAiFunction>
"""
INPUT = {
    "required": ["orderNumber"],
    "unevaluatedProperties": False,
    "properties": {
        "orderNumber": {
            "title": "Order Number",
            "lightning:type": "lightning__textType",
            "copilotAction:isUserInput": True,
        },
        "withLines": {"title": "With lines", "lightning:type": "lightning__booleanType"},
    },
    "lightning:type": "lightning__objectType",
}
OUTPUT = {
    "properties": {
        "total": {"title": "Total", "lightning:type": "lightning__numberType", "copilotAction:isUsedByPlanner": True},
        "lines": {
            "title": "Lines",
            "maxItems": 2000,
            "items": {"lightning:type": "@apexClassType/c__LookUpOrder$Line"},
            "lightning:type": "lightning__listType",
        },
    },
    "lightning:type": "lightning__objectType",
}
PLUGIN = """<?xml version="1.0" encoding="UTF-8"?>
<GenAiPlugin xmlns="http://soap.sforce.com/2006/04/metadata">
    <description>Orders.</description>
    <developerName>Orders</developerName>
    <genAiFunctions>
        <functionName>Look_Up_Order</functionName>
    </genAiFunctions>
    <genAiFunctions>
        <functionName>EmployeeCopilot__QueryRecords</functionName>
    </genAiFunctions>
    <masterLabel>Orders</masterLabel>
    <pluginType>Topic</pluginType>
</GenAiPlugin>
"""
FUNCTION = "force-app/main/default/genAiFunctions/Look_Up_Order"
CLASS = "force-app/main/default/classes/LookUpOrder.cls"


def make_project(root: Path, version: str = "65.0", namespace: str = "", **files: str) -> Path:
    (root / "sfdx-project.json").parent.mkdir(parents=True, exist_ok=True)
    project = {"packageDirectories": [{"path": "force-app", "default": True}], "sourceApiVersion": version}
    if namespace:
        project["namespace"] = namespace
    (root / "sfdx-project.json").write_text(json.dumps(project), "utf-8")
    contents = {
        CLASS: ACTION,
        f"{FUNCTION}/Look_Up_Order.genAiFunction-meta.xml": META,
        f"{FUNCTION}/input/schema.json": json.dumps(INPUT, indent=4),
        f"{FUNCTION}/output/schema.json": json.dumps(OUTPUT, indent=4),
        "force-app/main/default/genAiPlugins/Orders.genAiPlugin-meta.xml": PLUGIN,
    }
    contents.update({path.replace("__", "/"): text for path, text in files.items()})
    for path, text in contents.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, "utf-8")
    return root


def findings_of(root: Path) -> list[Finding]:
    _, project = check_sfdx_project(root)
    return check_agent_metadata(project)


def line_of(root: Path, path: str, text: str) -> int:
    lines = (root / path).read_text("utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def above_info(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity != "info"]


def test_an_action_that_agrees_with_its_class_has_no_finding_and_says_what_it_compared(tmp_path):
    findings = findings_of(make_project(tmp_path))

    assert above_info(findings) == []
    (compared,) = [f for f in findings if f.rule == "compared"]
    assert "input LookUpOrder.Request: orderNumber, withLines" in compared.message
    assert "output LookUpOrder.Result: total, lines" in compared.message


def test_a_variable_renamed_in_the_class_but_not_the_schema_is_a_blocker_at_the_property(tmp_path):
    root = make_project(
        tmp_path, **{CLASS.replace("/", "__"): ACTION.replace("Boolean withLines", "Boolean includeLines")}
    )

    (finding,) = above_info(findings_of(root))
    assert (finding.file, finding.rule, finding.severity) == (
        f"{FUNCTION}/input/schema.json",
        "unknown-property",
        BLOCKER,
    )
    assert finding.line == line_of(root, finding.file, '"withLines"')


def test_a_wrong_type_is_a_blocker_at_its_lightning_type(tmp_path):
    root = make_project(tmp_path)
    path = root / FUNCTION / "output/schema.json"
    path.write_text(path.read_text("utf-8").replace("lightning__numberType", "lightning__dateType"), "utf-8")

    (finding,) = above_info(findings_of(root))
    assert (finding.rule, finding.severity, finding.file) == ("type", BLOCKER, f"{FUNCTION}/output/schema.json")
    assert finding.line == line_of(root, finding.file, "lightning__dateType")
    assert "Decimal" in finding.message


def test_a_wrong_list_item_class_is_a_blocker(tmp_path):
    root = make_project(tmp_path)
    path = root / FUNCTION / "output/schema.json"
    path.write_text(path.read_text("utf-8").replace("LookUpOrder$Line", "LookUpOrder$Row"), "utf-8")

    (finding,) = above_info(findings_of(root))
    assert finding.rule == "type" and finding.line == line_of(root, finding.file, "LookUpOrder$Row")


def test_a_missing_target_class_is_a_blocker_at_the_invocation_target(tmp_path):
    root = make_project(tmp_path)
    (root / CLASS).unlink()

    (finding,) = above_info(findings_of(root))
    assert (finding.rule, finding.severity) == ("missing-target", BLOCKER)
    assert finding.line == line_of(root, finding.file, "<invocationTarget>")


def test_a_class_without_invocable_method_is_no_target(tmp_path):
    root = make_project(tmp_path, **{CLASS.replace("/", "__"): ACTION.replace("@InvocableMethod", "@AuraEnabled")})

    (finding,) = above_info(findings_of(root))
    assert finding.rule == "missing-target" and "has no @InvocableMethod" in finding.message


def test_no_output_used_by_the_planner_is_a_high_rule_finding(tmp_path):
    root = make_project(tmp_path)
    path = root / FUNCTION / "output/schema.json"
    path.write_text(
        path.read_text("utf-8").replace(
            '"copilotAction:isUsedByPlanner": true', '"copilotAction:isUsedByPlanner": false'
        ),
        "utf-8",
    )

    (finding,) = above_info(findings_of(root))
    assert (finding.rule, finding.severity, finding.file) == (
        "no-planner-output",
        "high",
        f"{FUNCTION}/output/schema.json",
    )
    assert finding.line == line_of(root, finding.file, '"properties"')


def test_a_non_global_action_in_a_namespaced_project_is_high_at_each_declaration(tmp_path):
    root = make_project(tmp_path, namespace="acme")

    found = above_info(findings_of(root))
    assert {(f.file, f.rule, f.severity) for f in found} == {(CLASS, "not-global", "high")}
    lines = sorted(f.line for f in found)
    expected = [
        line_of(root, CLASS, text)
        for text in (
            "class LookUpOrder",
            "@InvocableMethod",
            "class Request",
            "required=true",
            "Include the lines",
            "class Result",
            "What the order cost",
            "The lines of the order",
        )
    ]
    assert lines == sorted(expected)


def test_a_global_action_in_a_namespaced_project_is_fine(tmp_path):
    root = make_project(tmp_path, namespace="acme", **{CLASS.replace("/", "__"): ACTION.replace("public", "global")})
    path = root / FUNCTION / "output/schema.json"
    path.write_text(path.read_text("utf-8").replace("c__LookUpOrder", "acme__LookUpOrder"), "utf-8")

    assert above_info(findings_of(root)) == []


def test_genaiplanner_metadata_at_api_65_is_a_blocker(tmp_path):
    planner = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<GenAiPlanner xmlns="http://soap.sforce.com/2006/04/metadata"/>\n'
    )
    root = make_project(tmp_path, **{"force-app/main/default/genAiPlanners/Agent.genAiPlanner-meta.xml": planner})

    (finding,) = above_info(findings_of(root))
    assert (finding.file, finding.rule, finding.severity) == (
        "force-app/main/default/genAiPlanners/Agent.genAiPlanner-meta.xml",
        "api-version",
        BLOCKER,
    )
    assert (
        above_info(
            findings_of(
                make_project(
                    tmp_path / "old",
                    version="63.0",
                    **{"force-app/main/default/genAiPlanners/Agent.genAiPlanner-meta.xml": planner},
                )
            )
        )
        == []
    )


def test_a_planner_bundle_before_api_64_is_a_blocker(tmp_path):
    bundle = {"force-app/main/default/genAiPlannerBundles/A/A.genAiPlannerBundle": "<GenAiPlannerBundle/>"}
    (finding,) = above_info(findings_of(make_project(tmp_path, version="63.0", **bundle)))
    assert finding.rule == "api-version" and finding.file.endswith("A.genAiPlannerBundle")


def test_active_version_at_api_64_is_a_silent_no_op_reported_high(tmp_path):
    template = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<GenAiPromptTemplate xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <activeVersion>1</activeVersion>\n</GenAiPromptTemplate>\n"
    )
    path = "force-app/main/default/genAiPromptTemplates/T.genAiPromptTemplate-meta.xml"
    root = make_project(tmp_path, version="64.0", **{path: template})

    (finding,) = above_info(findings_of(root))
    assert (finding.file, finding.line, finding.rule, finding.severity) == (path, 3, "active-version", "high")


def test_a_topic_naming_a_missing_action_is_a_blocker_at_its_function_name(tmp_path):
    root = make_project(tmp_path)
    (root / FUNCTION).rename(root / FUNCTION.replace("Look_Up_Order", "Find_Order"))
    meta = root / FUNCTION.replace("Look_Up_Order", "Find_Order") / "Look_Up_Order.genAiFunction-meta.xml"
    meta.rename(meta.with_name("Find_Order.genAiFunction-meta.xml"))

    (finding,) = above_info(findings_of(root))
    plugin = "force-app/main/default/genAiPlugins/Orders.genAiPlugin-meta.xml"
    assert (finding.file, finding.rule, finding.severity) == (plugin, "missing-action", BLOCKER)
    assert finding.line == line_of(root, plugin, "Look_Up_Order")


def _user_input_as_text(schema: dict) -> None:
    schema["properties"]["orderNumber"]["copilotAction:isUserInput"] = "yes"


def _no_title(schema: dict) -> None:
    del schema["properties"]["withLines"]["title"]


def _required_not_listed(schema: dict) -> None:
    schema["required"] = []


@pytest.mark.parametrize(
    ("edit", "rule"), [(_user_input_as_text, "keyword"), (_no_title, "schema"), (_required_not_listed, "required")]
)
def test_schema_keywords_are_checked_where_documented(tmp_path, edit, rule):
    root = make_project(tmp_path)
    schema = json.loads(json.dumps(INPUT))
    edit(schema)
    (root / FUNCTION / "input/schema.json").write_text(json.dumps(schema, indent=4), "utf-8")

    found = above_info(findings_of(root))
    assert [(f.rule, f.severity, f.file) for f in found] == [(rule, BLOCKER, f"{FUNCTION}/input/schema.json")]
    assert found[0].line > 1


def test_undocumented_keywords_and_types_are_not_checked_but_named(tmp_path):
    root = make_project(tmp_path)
    output = dict(
        OUTPUT,
        properties=dict(
            OUTPUT["properties"], total={**OUTPUT["properties"]["total"], "copilotAction:useHydratedPrompt": False}
        ),
    )
    (root / FUNCTION / "output/schema.json").write_text(json.dumps(output, indent=4), "utf-8")

    findings = findings_of(root)
    assert above_info(findings) == []
    assert any(f.rule == "not-checked" and "total.copilotAction:useHydratedPrompt" in f.message for f in findings)


# --- agent metadata types newer than the bundled Metadata API schema (v63.0) ---------------------------------

BUNDLE = """<?xml version="1.0" encoding="UTF-8"?>
<AiAuthoringBundle xmlns="http://soap.sforce.com/2006/04/metadata">
    <bundleType>AGENT</bundleType>
</AiAuthoringBundle>
"""
FLOW_ACTION = """<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <actionCalls>
        <name>Send</name>
        <label>Send</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <actionName>Send</actionName>
        <actionType>{action_type}</actionType>
    </actionCalls>
    <apiVersion>{version}</apiVersion>
    <label>F</label>
    <processType>AutoLaunchedFlow</processType>
    <status>Active</status>
</Flow>
"""


def xml_findings(root: Path) -> list[Finding]:
    from apexgen.check.metadata_xml import check_metadata_xml

    _, project = check_sfdx_project(root)
    return [f for f in check_metadata_xml(project, None, use_cache=False) if f.rule not in ("order", "defaults")]


@pytest.mark.parametrize(("version", "severity"), [("65.0", "info"), ("63.0", BLOCKER)])
def test_a_type_newer_than_the_bundled_schema_is_not_checked_in_newer_files_only(tmp_path, version, severity):
    path = "force-app/main/default/aiAuthoringBundles/A/A.bundle-meta.xml"
    root = make_project(tmp_path, version=version, **{path: BUNDLE})

    roots = [f for f in xml_findings(root) if f.file == path and f.line == 2]
    assert [f.severity for f in roots] == [severity]


@pytest.mark.parametrize(
    ("action_type", "version", "severity"),
    [
        ("generateVerificationCode", "65.0", "info"),
        ("generateVerificationCode", "63.0", BLOCKER),
        ("apex", "65.0", None),
    ],
)
def test_new_flow_action_types_are_not_checked_in_newer_files(tmp_path, action_type, version, severity):
    path = "force-app/main/default/flows/F.flow-meta.xml"
    root = make_project(tmp_path, **{path: FLOW_ACTION.format(action_type=action_type, version=version)})

    found = [f.severity for f in xml_findings(root) if f.file == path and f.line == 9]
    assert found == ([severity] if severity else [])


def test_the_example_project_agrees_silently_and_an_edit_is_found_and_compared(cli, project):
    assert cli("generate", cwd=project).exit_code == 0
    function = "force-app/main/default/genAiFunctions/SummarizeCase"
    assert findings_of(project) == []  # generated over a generated class: agrees by construction, no note

    schema = project / function / "input/schema.json"
    schema.write_text(schema.read_text("utf-8").replace('"subject": {', '"caseSubject": {'), "utf-8")

    findings = findings_of(project)
    assert {(f.file, f.rule) for f in findings} == {
        (f"{function}/input/schema.json", "unknown-property"),
        (f"{function}/input/schema.json", "missing-property"),
        (f"{function}/input/schema.json", "schema"),  # required names the old key
        (f"{function}/SummarizeCase.genAiFunction-meta.xml", "compared"),
    }
