"""Where a prompt's component may be placed (lwc_targets) and which of its inputs are public (lwc_public).

In a managed package both are contracts: a released, exposed component can lose no target and no @api
property. These tests read the generated metadata and JavaScript the way the platform does: the targets,
the Flow screen's targetConfig properties, and the @api members of the component class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from lxml import etree

from apexgen.generate.plan import render_plan
from apexgen.spec.load import load_spec, parse_spec, schema
from apexgen.spec.lwc import LWC_TARGETS
from tests.conftest import REFERENCE_SPEC
from tests.test_golden import CASE_NAMES, CASES
from tests.test_lwc import META_NS, awkward_spec

APP, RECORD, HOME, FLOW = "lightning__AppPage", "lightning__RecordPage", "lightning__HomePage", "lightning__FlowScreen"


@dataclass(frozen=True)
class Bundle:
    exposed: bool
    targets: list[str]
    public: set[str]  # @api members of the component class
    flow_inputs: set[str]  # targetConfig properties of the Flow screen, by role
    flow_outputs: set[str]
    imports_api: bool


def bundles(spec) -> dict[str, Bundle]:
    files = {f.path: f.content for f in render_plan(spec) if "/lwc/" in f.path}
    found = {}
    for path in files:
        if not path.endswith(".js-meta.xml"):
            continue
        name = path.rsplit("/", 1)[1].removesuffix(".js-meta.xml")
        root = etree.fromstring(files[path].encode())
        js = files[path.removesuffix("-meta.xml")]
        properties = root.findall(".//m:targetConfig[@targets='lightning__FlowScreen']/m:property", META_NS)
        found[name] = Bundle(
            exposed=root.findtext("m:isExposed", namespaces=META_NS) == "true",
            targets=[t.text for t in root.findall("m:targets/m:target", META_NS)],
            public=set(re.findall(r"@api\s+(?:get\s+)?(\w+)", js)),
            flow_inputs={p.get("name") for p in properties if p.get("role") == "inputOnly"},
            flow_outputs={p.get("name") for p in properties if p.get("role") == "outputOnly"},
            imports_api=bool(re.search(r"^import \{ LightningElement, api\b", js, re.M)),
        )
    return found


HEADER = """
[project]
prefix = "Ai"
{project}

[models]
fast = "sfdc_ai__DefaultOpenAIGPT4OmniMini"
vectors = "sfdc_ai__DefaultOpenAITextEmbeddingAda_002"
"""
ASK = """
[[prompt]]
name = "Ask"
capability = "generate"
model = "fast"
template = "{question} {count} {weight}"
inputs = [{ name = "question" }, { name = "count", type = "Integer" }, { name = "weight", type = "Decimal" }]
outputs = [{ name = "answerScore", type = "Integer" }, { name = "ratio", type = "Double" }]
expose = ["lwc"]
"""


def ask(keys: str = "", project: str = "") -> Bundle:
    return bundles(parse_spec(HEADER.format(project=project) + ASK + keys))["ask"]


# --- the default: the one page the prompt needs -----------------------------------------------------------

PROMPTS_AND_THEIR_PAGE = [
    ("text inputs", ASK, [APP], set()),
    (
        "an Id input the page's record fills",
        ASK.replace('{ name = "weight", type = "Decimal" }', '{ name = "weight", type = "Id" }'),
        [RECORD],
        {"recordId"},
    ),
    (
        "a record trigger that maps fields to inputs",
        ASK.replace('expose = ["lwc"]', 'expose = ["flow", "lwc"]')
        + 'record = { object = "Case", inputs = { question = "Subject" }, write = { text = "Comments" } }\n',
        [RECORD],
        {"recordId"},
    ),
    ("an embed prompt", '[[prompt]]\nname = "Ask"\ncapability = "embed"\nmodel = "vectors"\n', [APP], set()),
    ("a feedback prompt", '[[prompt]]\nname = "Ask"\ncapability = "feedback"\n', [APP], set()),
]


@pytest.mark.parametrize(
    "prompt, targets, public", [p[1:] for p in PROMPTS_AND_THEIR_PAGE], ids=[p[0] for p in PROMPTS_AND_THEIR_PAGE]
)
def test_by_default_a_component_goes_on_the_one_page_its_prompt_needs_with_no_public_input(prompt, targets, public):
    bundle = bundles(parse_spec(HEADER.format(project="") + prompt))["ask"]

    assert bundle.exposed and bundle.targets == targets
    assert bundle.public == public and bundle.imports_api == bool(public)
    assert bundle.flow_inputs == bundle.flow_outputs == set()


def test_the_managed_package_case_exposes_each_component_on_app_pages_only_with_nothing_public():
    assert bundles(load_spec(CASES / "namespaced" / "apexgen.toml")) == {
        name: Bundle(True, [APP], set(), set(), set(), False) for name in ("summarize", "similar", "rate")
    }


def test_a_project_default_applies_to_prompts_that_do_not_choose():
    spec = HEADER.format(project='lwc_targets = ["home_page", "app_page"]') + ASK + ASK.replace('"Ask"', '"Other"')
    spec += 'lwc_targets = ["record_page"]\n'
    found = bundles(parse_spec(spec))

    assert found["ask"].targets == [APP, HOME]
    assert found["other"].targets == [RECORD]


def test_chosen_targets_keep_one_order_and_none_leaves_the_component_unexposed():
    assert ask('lwc_targets = ["flow_screen", "home_page", "record_page", "app_page"]\n').targets == [
        RECORD,
        APP,
        HOME,
        FLOW,
    ]
    unexposed = ask("lwc_targets = []\n")
    assert unexposed == Bundle(False, [], set(), set(), set(), False)


def test_the_schema_offers_the_targets_the_generator_maps():
    assert schema()["$defs"]["lwc_targets"]["items"]["enum"] == list(LWC_TARGETS)


# --- public properties follow the targets, or the spec's choice ---------------------------------------------

PUBLIC_CHOICES = [
    # (keys, @api members, Flow screen inputs, Flow screen outputs)
    # A Flow screen sets the inputs (and availableActions, which tells the component it is on one), calls
    # validate() and reads the answer and the outputs. A Decimal input has no Flow type: it
    # is public for a parent component but no Flow property. A Double output has none either: it is shown only.
    (
        'lwc_targets = ["flow_screen"]',
        {"question", "count", "weight", "answerText", "answerScore", "availableActions", "validate"},
        {"question", "count"},
        {"answerText", "answerScore"},
    ),
    (
        'lwc_targets = ["flow_screen"]\nlwc_public = ["count"]',
        {"count", "answerText", "answerScore", "availableActions", "validate"},
        {"count"},
        {"answerText", "answerScore"},
    ),
    (
        'lwc_targets = ["flow_screen"]\nlwc_public = []',
        {"answerText", "answerScore", "availableActions", "validate"},
        set(),
        {"answerText", "answerScore"},
    ),
    # a parent component may set the inputs lwc_public names; no Flow screen, so no targetConfig
    ('lwc_public = ["weight", "question"]', {"question", "weight"}, set(), set()),
    ('lwc_targets = []\nlwc_public = ["question"]', {"question"}, set(), set()),
]


@pytest.mark.parametrize("keys, public, flow_inputs, flow_outputs", PUBLIC_CHOICES, ids=[c[0] for c in PUBLIC_CHOICES])
def test_public_properties_are_what_the_targets_need_or_what_lwc_public_names(keys, public, flow_inputs, flow_outputs):
    bundle = ask(keys + "\n")

    assert bundle.public == public and bundle.imports_api
    assert bundle.flow_inputs == flow_inputs and bundle.flow_outputs == flow_outputs


def test_every_flow_screen_property_is_public_in_every_generated_component():
    """A targetConfig property that is not an @api property fails the deploy."""
    specs = [load_spec(REFERENCE_SPEC), awkward_spec()] + [load_spec(CASES / c / "apexgen.toml") for c in CASE_NAMES]
    checked = 0
    for spec in specs:
        for name, bundle in bundles(spec).items():
            assert bundle.flow_inputs | bundle.flow_outputs <= bundle.public, name
            assert bool(bundle.flow_inputs | bundle.flow_outputs) <= (FLOW in bundle.targets), name
            assert bundle.imports_api == bool(bundle.public), name
            checked += bool(bundle.flow_inputs)
    assert checked >= 3  # the reference's draftReply, all-input-types' explainRecord, the awkward oddNames
