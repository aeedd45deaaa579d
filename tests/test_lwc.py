"""Lightning web components: the bundle of each prompt exposed to lwc, proven by Salesforce's own tools.

The reference project, every golden case with components, and a spec of awkward names and labels
are generated into one SFDX project made with the files ``apexgen init`` writes (jest.config.js,
eslint.config.js). Three Node runs check all of them at once: sfdx-lwc-jest runs every generated
Jest suite, ESLint applies Salesforce's recommended LWC rules, and the LWC template compiler (the
one sfdx-lwc-jest ships) compiles every template.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from apexgen.generate.lwc import js_string, markup_attribute, markup_text
from apexgen.generate.plan import render_plan
from apexgen.generate.scaffold import project_files
from apexgen.spec.load import load_spec, parse_spec
from tests.conftest import REFERENCE_SPEC, REPO
from tests.test_golden import CASE_NAMES, CASES

LWC = "force-app/main/default/lwc"
META_NS = {"m": "http://soap.sforce.com/2006/04/metadata"}

# Names LWC will not take as public properties, labels the template compiler would read as
# expressions, text that ends comments and templates: everything the escaping must survive.
AWKWARD_SPEC = r"""
[project]
prefix = "Odd"

[models]
fast = "sfdc_ai__DefaultOpenAIGPT4OmniMini"

[[prompt]]
name = "OddNames"
capability = "chat"
model = "fast"
template = "{onboardingDate} {dataSource} {Subject} {due_Date} {followUp} {amount} {ownerId}"
inputs = [
  { name = "onboardingDate", type = "Date", label = "{onboardingDate}", required = true },
  { name = "dataSource", label = "a {b} c </template> & \"q\" 'single'", description = "{x}\nsecond line" },
  { name = "Subject", label = "\\{escaped} and a \\ backslash" },
  { name = "due_Date", type = "Datetime", label = "x{y}" },
  { name = "followUp", type = "Boolean", required = true },
  { name = "amount", type = "Decimal", label = "{a} and {b}" },
  { name = "ownerId", type = "Id", label = "Owner's 'Id' */" },
]
expose = ["lwc"]
lwc_targets = ["record_page", "flow_screen"]
feedback = "Rate"
label = "{Braces} <b>not bold</b>"
description = "Ends with */ and {x}"

[[prompt]]
name = "Rate"
capability = "feedback"
expose = ["lwc"]

# only optional text inputs: the component has no required input, number or follow-up to test for blank;
# a parent component may set its input, and it goes on home pages only
[[prompt]]
name = "OptionalOnly"
capability = "generate"
model = "fast"
template = "Say hello to {nickname}."
inputs = [{ name = "nickname" }]
expose = ["lwc"]
lwc_targets = ["home_page"]
lwc_public = ["nickname"]
"""


def awkward_spec():
    return parse_spec(AWKWARD_SPEC, "awkward.toml")


def lwc_files(spec) -> dict[str, str]:
    return {f.path: f.content for f in render_plan(spec) if "/lwc/" in f.path}


def reference() -> dict[str, str]:
    return lwc_files(load_spec(REFERENCE_SPEC))


def golden(case: str) -> dict[str, str]:
    return lwc_files(load_spec(CASES / case / "apexgen.toml"))


def meta(files: dict[str, str], name: str):
    return etree.fromstring(files[f"{LWC}/{name}/{name}.js-meta.xml"].encode())


def flow_properties(files: dict[str, str], name: str, role: str = "inputOnly") -> dict[str, str]:
    root = meta(files, name)
    return {
        p.get("name"): p.get("type")
        for p in root.findall(".//m:targetConfig[@targets='lightning__FlowScreen']/m:property", META_NS)
        if p.get("role") == role
    }


# --- what is generated ------------------------------------------------------------------------------


def test_each_prompt_exposed_to_lwc_gets_a_bundle_of_four_files():
    # findSimilarCases is a search prompt: exposed to lwc, it gets its controller and no component
    names = ["answerFromCases", "compareTexts", "draftReply", "rateAnswer", "summarizeCase", "triageCase"]
    expected = {
        f"{LWC}/{name}/{file}"
        for name in names
        for file in (f"{name}.js", f"{name}.html", f"{name}.js-meta.xml", f"__tests__/{name}.test.js")
    }
    assert set(reference()) == expected
    assert golden("service-only") == {} and golden("minimal") == {}
    assert [p for p in golden("embeddings") if p.endswith(".js-meta.xml")] == [
        f"{LWC}/dotScore/dotScore.js-meta.xml",
        f"{LWC}/distance/distance.js-meta.xml",
    ]


def test_components_call_their_controller_and_send_ratings_to_the_feedback_prompt():
    files = reference()

    def js(name):
        return files[f"{LWC}/{name}/{name}.js"]

    assert "import chat from '@salesforce/apex/SummarizeCaseController.chat';" in js("summarizeCase")
    assert "import generate from '@salesforce/apex/DraftReplyController.generate';" in js("draftReply")
    assert "import compare from '@salesforce/apex/CompareTextsController.compare';" in js("compareTexts")
    assert "import submit from '@salesforce/apex/RateAnswerController.submit';" in js("rateAnswer")
    rating = "import submitFeedback from '@salesforce/apex/RateAnswerController.submit';"
    assert rating in js("summarizeCase") and rating in js("draftReply")
    assert "submitFeedback" not in js("compareTexts") and "submitFeedback" not in js("rateAnswer")
    assert "generationId: this.answer.generationId" in js("draftReply")
    assert "history" in js("summarizeCase") and "history" not in js("draftReply")


def test_without_feedback_no_thumbs_are_shown():
    html = golden("chat-lwc")[f"{LWC}/concierge/concierge.html"]
    assert "lightning-button-icon-stateful" not in html
    assert "lightning-button-icon-stateful" in reference()[f"{LWC}/summarizeCase/summarizeCase.html"]


def test_metadata_targets_the_chosen_pages_and_flow_screens_with_the_public_inputs_as_properties():
    files = reference()
    root = meta(files, "draftReply")
    assert root.findtext("m:apiVersion", namespaces=META_NS) == "65.0"
    assert root.findtext("m:isExposed", namespaces=META_NS) == "true"
    assert [t.text for t in root.findall("m:targets/m:target", META_NS)] == [
        "lightning__AppPage",
        "lightning__FlowScreen",
    ]
    # lwc_public = ["customerName"]: the other inputs are the user's to enter
    assert flow_properties(files, "draftReply") == {"customerName": "String"}
    assert flow_properties(files, "rateAnswer") == {}
    # Flow screens have no type for Long, Decimal or Double values: those are entered on screen only.
    assert flow_properties(golden("all-input-types"), "explainRecord") == {
        "name": "String",
        "count": "Integer",
        "active": "Boolean",
        "due": "Date",
        "seen": "DateTime",
        "owner": "String",
    }
    assert flow_properties(golden("chat-lwc"), "concierge") == {}
    assert meta(golden("all-input-types"), "explainRecord").findtext("m:apiVersion", namespaces=META_NS) == "66.0"


def test_each_input_type_gets_its_control():
    html = golden("all-input-types")[f"{LWC}/explainRecord/explainRecord.html"]
    types = dict(re.findall(r'name="(\w+)"\s+label="[^"]*"\s+type="(\w+)"', html))
    assert types == {
        "name": "text",
        "count": "number",
        "big": "number",
        "amount": "number",
        "ratio": "number",
        "active": "toggle",
        "due": "date",
        "seen": "datetime",
        "owner": "text",
    }
    assert "checked={values.active}" in html
    steps = re.findall(r'name="(\w+)"\s+label="[^"]*"\s+type="number"\s+step="any"', html)
    assert steps == ["amount", "ratio"]  # decimals; whole numbers keep the default step of 1
    js = golden("all-input-types")[f"{LWC}/explainRecord/explainRecord.js"]
    assert "count: toNumber(this.values.count)" in js and "active: this.values.active === true" in js


def test_the_record_page_fills_the_first_id_input_only_where_there_is_one():
    assert "get recordId()" in golden("all-input-types")[f"{LWC}/explainRecord/explainRecord.js"]
    # elsewhere only the component of a prompt with a record trigger reads the page's record (a grounded answer's
    # sources carry their records' Ids as source.recordId, and its Jest test mocks them as { recordId: ... })
    page_record = re.compile(r"(?<!source\.)\brecordId\b(?!: '\w+', chunkNumber)")
    assert {path.split("/")[-2] for path, text in reference().items() if page_record.search(text)} == {
        "triageCase",
        "__tests__",
    }
    assert not [path for path, text in reference().items() if page_record.search(text) and "triageCase" not in path]


def test_names_lwc_reserves_stay_form_fields_that_flow_cannot_set():
    files = lwc_files(awkward_spec())
    js = files[f"{LWC}/oddNames/oddNames.js"]
    public = set(re.findall(r"@api\s+get (\w+)\(\)", js))
    # not on…, data…, a capital, an underscore mix, a class member; answerText is the answer for Flow screens
    assert public == {"recordId", "amount", "ownerId", "answerText"}
    assert set(flow_properties(files, "oddNames")) == {"ownerId"}
    for name in ("onboardingDate", "dataSource", "Subject", "due_Date", "followUp"):
        assert f'name="{name}"' in files[f"{LWC}/oddNames/oddNames.html"]


def test_strings_are_escaped_for_javascript_and_lwc_markup():
    assert js_string("it's a \\ and\n\u2028") == "'it\\'s a \\\\ and\\n\\u2028'"
    assert markup_text("a {b} <c> & d") == "a &#123;b&#125; &lt;c&gt; &amp; d"
    assert markup_attribute("{b}") == '"\\{b}"'
    assert markup_attribute('say "{b}" & go') == '"say &quot;&#123;b&#125;&quot; &amp; go"'


# --- what apexgen init gives a project ---------------------------------------------------------------


def init_files() -> dict[str, str]:
    return {f.path: f.content for f in project_files("demo")}


def test_init_gives_projects_what_the_component_tests_need():
    files = init_files()
    package = json.loads(files["package.json"])
    assert package["scripts"]["test:unit"] == "sfdx-lwc-jest"
    assert package["scripts"]["lint"].startswith("eslint ")
    assert "@salesforce/sfdx-lwc-jest/config" in files["jest.config.js"]
    assert "@salesforce/eslint-config-lwc/recommended" in files["eslint.config.js"]
    # A user's project gets the versions this repository tests the generated components with.
    ours = json.loads((REPO / "package.json").read_text("utf-8"))["devDependencies"]
    assert package["devDependencies"] == {name: ours[name] for name in package["devDependencies"]}
    assert "**/__tests__/**" in files[".forceignore"]  # Jest tests are never deployed


def test_this_repository_lints_its_components_as_projects_do():
    assert (REPO / "eslint.config.js").read_text("utf-8") == init_files()["eslint.config.js"]


# --- Salesforce's tools on every generated component ---------------------------------------------------


def node_tool(*parts: str) -> str:
    path = REPO / "node_modules" / Path(*parts)
    assert path.exists(), f"{path} is missing: run npm ci in {REPO}"
    return str(path)


@pytest.fixture(scope="module")
def lwc_project(tmp_path_factory) -> Path:
    """One SFDX project with the components of the reference, the golden cases and the awkward spec,
    one package directory each, and the jest and ESLint configuration ``apexgen init`` writes."""
    root = tmp_path_factory.mktemp("lwc")
    specs = {"reference": load_spec(REFERENCE_SPEC), "awkward": awkward_spec()}
    specs.update({case: load_spec(CASES / case / "apexgen.toml") for case in CASE_NAMES})
    packages = []
    bundles: dict[str, tuple[str, dict[str, str]]] = {}
    for name, spec in specs.items():
        files = lwc_files(spec)
        for bundle in {path.split("/lwc/")[1].split("/")[0] for path in files}:
            # Jest resolves c-<bundle> to one folder: two specs may share a name only with the same component
            # (the same component, whichever spec its generated-file header names)
            content = {
                path.split("/lwc/")[1]: re.sub(r"from \S+\.toml", "from SPEC", text)
                for path, text in files.items()
                if f"/lwc/{bundle}/" in path
            }
            owner, seen = bundles.setdefault(bundle, (name, content))
            assert seen == content, f"component {bundle} differs between {owner} and {name}: rename it in one"
        for path, content in files.items():
            (root / name / path).parent.mkdir(parents=True, exist_ok=True)
            (root / name / path).write_text(content, "utf-8")
        if files:
            packages.append({"path": f"{name}/force-app"})
    (root / "sfdx-project.json").write_text(json.dumps({"packageDirectories": packages, "sourceApiVersion": "65.0"}))
    for name in ("jest.config.js", "eslint.config.js"):
        (root / name).write_text(init_files()[name], "utf-8")
    (root / "node_modules").symlink_to(REPO / "node_modules", target_is_directory=True)
    return root


def component_count() -> int:
    """Components the fixture project holds: one per prompt exposed to lwc in each of its specs."""
    specs = [load_spec(REFERENCE_SPEC), awkward_spec()] + [
        load_spec(CASES / case / "apexgen.toml") for case in CASE_NAMES
    ]
    return sum(prompt.has_component for spec in specs for prompt in spec.prompts)


def generated(root: Path, pattern: str) -> list[Path]:
    return sorted(p for p in root.glob(f"*/force-app/**/lwc/{pattern}") if "node_modules" not in p.parts)


def run_node(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is not on PATH"
    return subprocess.run(
        [node, *args], cwd=root, capture_output=True, text=True, timeout=300, env={**os.environ, "CI": "true"}
    )


@pytest.mark.tools
def test_generated_jest_suites_pass(lwc_project):
    report = lwc_project / "jest.json"
    run = run_node(
        lwc_project, node_tool("@salesforce/sfdx-lwc-jest/bin/sfdx-lwc-jest"), "--", "--json", f"--outputFile={report}"
    )
    results = json.loads(report.read_text("utf-8"))

    failures = [
        f"{Path(suite['name']).relative_to(lwc_project)}: {assertion['fullName']}: {assertion['failureMessages']}"
        for suite in results["testResults"]
        for assertion in suite["assertionResults"]
        if assertion["status"] != "passed"
    ]
    broken = [f"{suite['name']}: {suite['message']}" for suite in results["testResults"] if suite["status"] != "passed"]
    assert failures == [] and broken == [], run.stderr[-4000:]
    assert results["numTotalTestSuites"] == len(generated(lwc_project, "*/__tests__/*.test.js")) == component_count()
    assert results["numPassedTests"] == results["numTotalTests"] > component_count() * 4
    assert "[LWC warn]" not in run.stderr and "console.error" not in run.stderr, run.stderr[-4000:]


@pytest.mark.tools
def test_generated_javascript_passes_the_lwc_lint_rules(lwc_project):
    run = run_node(lwc_project, node_tool("eslint/bin/eslint.js"), "--format", "json", "**/lwc/**/*.js")
    report = json.loads(run.stdout)

    problems = [
        f"{Path(file['filePath']).relative_to(lwc_project)}:{m['line']}:{m['column']} {m.get('ruleId')}: {m['message']}"
        for file in report
        for m in file["messages"]
    ]
    assert problems == []
    assert run.returncode == 0, run.stderr
    # Components and their Jest tests alike, each linted (not skipped as outside the configuration).
    assert sorted(Path(f["filePath"]) for f in report) == generated(lwc_project, "**/*.js")


COMPILE_TEMPLATES = """
const { readFileSync } = require('fs');
const { compile } = require('@lwc/template-compiler');
const results = {};
for (const file of process.argv.slice(1)) {
    const { warnings } = compile(readFileSync(file, 'utf8'), file, {});
    results[file] = warnings.map((w) => `${w.level === 1 ? 'error' : 'warning'} ${w.message}`);
}
console.log(JSON.stringify(results));
"""


@pytest.mark.tools
def test_generated_templates_compile_without_warnings(lwc_project):
    templates = generated(lwc_project, "*/*.html")
    run = run_node(lwc_project, "-e", COMPILE_TEMPLATES, *map(str, templates))
    assert run.returncode == 0, run.stderr

    results = json.loads(run.stdout)
    assert len(results) == len(templates) == component_count()
    assert {file: messages for file, messages in results.items() if messages} == {}


def test_components_give_flow_screens_the_answer_and_its_outputs():
    concierge = golden("chat-lwc")
    assert flow_properties(concierge, "concierge", role="outputOnly") == {
        "answerText": "String",
        "greeting": "String",
        "needsAgent": "Boolean",
    }
    js = concierge[f"{LWC}/concierge/concierge.js"]
    assert "import { FlowAttributeChangeEvent } from 'lightning/flowSupport';" in js
    assert "new FlowAttributeChangeEvent('needsAgent', this.needsAgent)" in js
    # Flow screens have no type for Long, Decimal or Double values: those outputs are shown only
    explain = golden("all-input-types")
    outputs = flow_properties(explain, "explainRecord", role="outputOnly")
    assert outputs["remindAt"] == "DateTime" and outputs["assignee"] == "String"
    assert not {"volume", "price", "weight"} & set(outputs)
    assert "{ name: 'price', label: 'Price' }" in explain[f"{LWC}/explainRecord/explainRecord.js"]
    assert 'class="outputs' in explain[f"{LWC}/explainRecord/explainRecord.html"]
    # off Flow screens, the answer and its outputs are shown only
    triage = reference()[f"{LWC}/triageCase/triageCase.js"]
    assert flow_properties(reference(), "triageCase", role="outputOnly") == {}
    assert "get answerText()" not in triage and "flowSupport" not in triage and "announceAnswer" not in triage


def test_a_record_page_fills_the_inputs_mapped_to_its_record_fields():
    js = reference()[f"{LWC}/triageCase/triageCase.js"]

    assert "import { getRecord } from 'lightning/uiRecordApi';" in js
    # optional fields: a user who may not read one still gets the others; schema imports: the package knows them
    assert "@wire(getRecord, { recordId: '$recordId', optionalFields: RECORD_FIELDS })" in js
    assert "import CASE_SUBJECT_FIELD from '@salesforce/schema/Case.Subject';" in js
    assert "{ input: 'subject', label: 'Case Subject', field: CASE_SUBJECT_FIELD }" in js
    assert "{ input: 'description', label: 'Case Description', field: CASE_DESCRIPTION_FIELD }" in js
    meta = reference()[f"{LWC}/triageCase/triageCase.js-meta.xml"]
    assert (
        '<targetConfig targets="lightning__RecordPage">\n            <objects>\n                <object>Case</object>'
        in meta
    )
