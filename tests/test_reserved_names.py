"""The one list of reserved names (``apexgen.spec.reserved``): derived from what the templates render, and
checked against every kind of spec name.

The first test renders every example spec and reads back each name the generated files declare where a spec
name goes too (Flow elements and variables, the Apex scopes the inputs and outputs join, the component's
members and module names); every one must be refused by the rule for that kind of spec name. A template that
adds a name fails it until the name is reserved.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from apexgen.generate.plan import render_plan
from apexgen.spec.load import load_spec
from apexgen.spec.lwc import public_property_problem
from apexgen.spec.naming import RESERVED_WORDS, lower_camel
from apexgen.spec.reserved import (
    FIELD_IMPORT_SUFFIX,
    FIELD_VARIABLE_PREFIX,
    OUTPUT_VARIABLE_PREFIX,
    input_problem,
    model_constant_problem,
    output_problem,
    prompt_problem,
)
from apexgen.spec.types import Prompt
from tests.conftest import tree, unplaced, write_spec
from tests.test_spec import HEADER, VALID_PROMPT

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_SPECS = [REPO / "apexgen.toml", *sorted((REPO / "tests" / "cases").glob("*/apexgen.toml"))]
MD = "{http://soap.sforce.com/2006/04/metadata}"

# --- reading names back from generated files --------------------------------------------------------------

_APEX_TOKEN = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|\d[\w.]*|[A-Za-z_]\w*|\S", re.S)
_WORD = re.compile(r"[A-Za-z_]\w*\Z")


def _close(tokens: list[str], start: int, opening: str, closing: str) -> int:
    depth = 0
    for k in range(start, len(tokens)):
        depth += tokens[k] == opening
        depth -= tokens[k] == closing
        if depth == 0:
            return k
    raise AssertionError(f"unbalanced {opening}{closing}")


def apex_tokens(source: str) -> list[str]:
    """Apex tokens without comments, string literals, annotations, and the words of SOQL/SOSL (binds kept)."""
    raw = [t for t in _APEX_TOKEN.findall(source) if not t.startswith(("//", "/*", "'"))]
    out: list[str] = []
    k = 0
    while k < len(raw):
        if raw[k] == "@":  # an annotation and its arguments
            k += 2
            if k < len(raw) and raw[k] == "(":
                k = _close(raw, k, "(", ")") + 1
            continue
        if raw[k] == "[" and raw[k + 1].upper() in ("SELECT", "FIND"):
            end = _close(raw, k, "[", "]")
            out += [raw[j] for j in range(k + 1, end) if raw[j - 1] == ":"]
            k = end + 1
            continue
        out.append(raw[k])
        k += 1
    return out


def _scope_names(tokens: list[str]) -> set[str]:
    """The names a scope resolves itself: not a member after '.', not a method or constructor called."""
    return {
        t
        for n, t in enumerate(tokens)
        if _WORD.match(t)
        and not (n and tokens[n - 1] in (".", "new"))
        and not (n + 1 < len(tokens) and tokens[n + 1] == "(")
    }


def apex_names_beside(source: str, names: set[str], holder: str, parameters: bool) -> set[str]:
    """The names resolved in the scopes ``names`` join: methods taking one as a parameter (``parameters``),
    and the class ``holder`` that declares them as fields (its own body, nested classes apart)."""
    tokens = apex_tokens(source)
    lowered = {n.lower() for n in names}
    found: set[str] = set()
    for i, token in enumerate(tokens):
        if parameters and token == "(" and i and _WORD.match(tokens[i - 1]):
            end = _close(tokens, i, "(", ")")
            if tokens[end + 1 : end + 2] == ["{"] and {t.lower() for t in tokens[i + 1 : end]} & lowered:
                found |= _scope_names(tokens[i + 1 : _close(tokens, end + 1, "{", "}")])
        if lowered and token == "class" and tokens[i + 1 : i + 3] == [holder, "{"]:
            body: list[str] = []
            k, end = i + 3, _close(tokens, i + 2, "{", "}")
            while k < end:
                if tokens[k] == "class":
                    k = _close(tokens, k + 2, "{", "}") + 1
                    continue
                body.append(tokens[k])
                k += 1
            found |= _scope_names(body)
    return found


def flow_names(xml: str) -> set[str]:
    """Every API name a Flow declares (elements, rules, choices, screen fields, variables)."""
    root = etree.fromstring(xml.encode("utf-8"))
    skipped = {f"{MD}processMetadataValues", f"{MD}inputParameters", f"{MD}outputParameters"}
    return {
        child.text
        for element in root.iter()
        if element.tag not in skipped
        for child in element
        if child.tag == f"{MD}name" and child.text
    }


_MEMBER = re.compile(r"^    (?:(?:@api|static|async|get|set)\s+)*([A-Za-z_$][\w$]*)\s*(?:[(;=]|$)", re.M)
_MODULE = re.compile(
    r"^(?:import\s+(?:\{(?P<named>[^}]*)\}|(?P<default>[\w$]+))\s+from|(?:const|let|function)\s+(?P<own>[\w$]+))",
    re.M,
)


def component_members(source: str) -> set[str]:
    """The members of the component class (prettier puts them at four spaces inside it)."""
    body = source[source.index("export default class") :]
    return set(_MEMBER.findall(body))


def module_names(source: str) -> set[str]:
    names: set[str] = set()
    for match in _MODULE.finditer(source):
        if match["named"]:
            names |= {part.split(" as ")[-1].strip() for part in match["named"].split(",") if part.strip()}
        names |= {match["default"], match["own"]} - {None}
    return names


@cache
def generated_names(path: Path) -> list[tuple[Prompt, str, str]]:
    """(prompt, kind of spec name, generated name) for every name a spec name could meet in ``path``'s files."""
    spec = load_spec(path)
    files = {f.path: f.content for f in render_plan(spec)}
    classes = {p.rsplit("/", 1)[1].removesuffix(".cls").lower() for p in files if p.endswith(".cls")}
    found: list[tuple[Prompt, str, str]] = []
    for prompt in spec.prompts:
        inputs = {item.name for item in prompt.call_inputs}
        outputs = {item.name for item in prompt.outputs}
        own = {n.lower() for n in inputs | outputs}

        def generated(name: str, own: set[str] = own) -> bool:
            return (
                name.lower() not in own
                and name.lower() not in RESERVED_WORDS
                and name.lower() not in classes
                and "__" not in name  # sObject and field API names
            )

        for file, content in files.items():
            base = file.rsplit("/", 1)[1]
            if base.startswith(f"{prompt.name}") and base.endswith(".flow-meta.xml"):
                derived = {f"{OUTPUT_VARIABLE_PREFIX}{o}" for o in outputs} | {
                    f"{FIELD_VARIABLE_PREFIX}{i}" for i in inputs
                }
                for name in flow_names(content) - derived:
                    if generated(name):
                        found += [(prompt, "input", name), (prompt, "output", name)]
            if file.endswith(".cls") and base.removesuffix(".cls") in prompt.classes():
                found += [
                    (prompt, "input", name)
                    for name in apex_names_beside(content, {i.name for i in prompt.inputs}, "Request", True)
                    if generated(name)
                ]
                if outputs:
                    found += [
                        (prompt, "output", name)
                        for name in apex_names_beside(content, outputs, "Result", False)
                        if generated(name)
                    ]
        component = f"lwc/{lower_camel(prompt.name)}/"
        for file, content in files.items():
            if component not in file or not file.endswith(".js"):
                continue
            if not file.endswith(".test.js"):
                found += [(prompt, "member", name) for name in component_members(content) - inputs - outputs]
            found += [
                (prompt, "module", name)
                for name in module_names(content) - {prompt.name}
                if not name.endswith(FIELD_IMPORT_SUFFIX)
            ]
    return found


def models_class_fields(path: Path) -> set[str]:
    """The fields the generated Models class declares beside the constants of the spec's model aliases."""
    spec = load_spec(path)
    source = next(f.content for f in render_plan(spec) if f.path.endswith(f"/{spec.project.prefix}Models.cls"))
    tokens = apex_tokens(source)
    depth, fields = 0, set()
    for i, token in enumerate(tokens):
        depth += {"{": 1, "}": -1}.get(token, 0)
        if depth == 1 and _WORD.match(token) and tokens[i + 1] in ("=", ";") and tokens[i - 1] not in (".", "new"):
            fields.add(token)
    return fields - {model.constant for model in spec.models}


@pytest.mark.parametrize("case", ["subscriber-models", "minimal"])
def test_every_field_of_the_models_class_is_refused_as_a_model_constant(case):
    fields = models_class_fields(REPO / "tests" / "cases" / case / "apexgen.toml")
    assert case != "subscriber-models" or fields, "the scan read nothing"
    assert [name for name in fields if model_constant_problem(name.upper()) is None] == []


def refused(prompt: Prompt, kind: str, name: str) -> str | None:
    """The rule of ``apexgen.spec.reserved`` that keeps a spec name of ``kind`` off ``name``."""
    if kind == "input":
        return input_problem(name, grounded=prompt.ground is not None, record=prompt.record is not None)
    if kind == "output":
        return output_problem(name, chat=prompt.capability == "chat")
    if kind == "member":  # a public input or an output on a Flow screen would become this member
        outputs = (
            output_problem(name, chat=prompt.capability == "chat")
            if prompt.capability in ("generate", "chat")
            else "no outputs"
        )
        return public_property_problem(name) and outputs
    return prompt_problem(name, component=True)


@pytest.mark.parametrize("path", EXAMPLE_SPECS, ids=lambda p: p.parent.name)
def test_every_name_the_templates_render_is_reserved(path):
    found = generated_names(path)

    missing = sorted({(kind, name) for prompt, kind, name in found if refused(prompt, kind, name) is None})

    assert not missing, f"generated names a spec name could take; add them to apexgen/spec/reserved.py: {missing}"


def test_the_example_specs_reach_every_kind_of_generated_name():
    found = [(kind, name) for path in EXAMPLE_SPECS for _, kind, name in generated_names(path)]

    assert {kind for kind, _ in found} == {"input", "output", "member", "module"}
    assert {("input", "Answered"), ("input", "Sent"), ("input", "Rated"), ("member", "answerText")} <= set(found)
    assert {("input", "sources"), ("output", "toxicityScore"), ("module", "LightningElement")} <= set(found)


def test_the_scan_sees_a_name_a_template_would_add():
    """The derivation itself: a name added to a generated Flow, method or component is seen."""
    flow = '<Flow xmlns="http://soap.sforce.com/2006/04/metadata"><decisions><name>Retried</name></decisions></Flow>'
    apex = "class A { String run(String text) { String fresh = text; return fresh + LIMIT_X; } }"
    js = "import { x } from 'y';\nconst NEW_ONE = 1;\nexport default class P extends X {\n    brandNew;\n}\n"

    assert "Retried" in flow_names(flow)
    assert {"fresh", "LIMIT_X"} <= apex_names_beside(apex, {"text"}, "Request", True)
    assert "brandNew" in component_members(js)
    assert {"x", "NEW_ONE"} <= module_names(js)


GROUNDED = (
    '\n[[index]]\nname = "Docs"\nobject = "Case"\nfields = ["Subject"]\nmodel = "vectors"\n'
    '\n[[prompt]]\nname = "Answer"\ncapability = "generate"\nmodel = "fast"\n'
    'template = "{context} {question}"\ninputs = [{ name = "question" }, { name = "NAME" }]\n'
    'ground = { index = "Docs", query = "question" }\n'
)
RECORD = (
    VALID_PROMPT.replace('{ name = "text" }', '{ name = "text" }, { name = "NAME" }').replace("{text}", "{text} {NAME}")
    + 'expose = ["flow"]\nflows = ["autolaunched"]\n'
    + 'record = { object = "Case", inputs = { text = "Subject" }, write = { text = "Description" } }\n'
)
COLLISIONS = [
    # (spec text, key named, words of the rule)
    *[
        (
            HEADER + VALID_PROMPT.replace("{text}", "{" + name + "}").replace('"text"', f'"{name}"'),
            "prompt[0].inputs[0].name",
            f"'{name}' is a name the generated code uses itself (an element or variable of the generated Flows)",
        )
        for name in ("Answered", "Sent", "rated", "Queue_Record")
    ],
    (
        HEADER + VALID_PROMPT.replace("{text}", "{LoggingLevel}").replace('"text"', '"LoggingLevel"'),
        "prompt[0].inputs[0].name",
        "'LoggingLevel' is a name the generated code uses itself (a name the generated Apex reads beside the inputs)",
    ),
    (
        HEADER + GROUNDED.replace("NAME", "sources"),
        "prompt[0].inputs[1].name",
        "'sources' is a name the generated code uses itself (a name the generated Apex reads beside the inputs)",
    ),
    (
        HEADER + VALID_PROMPT.replace("{text}", "{Output_a}").replace('"text"', '"Output_a"'),
        "prompt[0].inputs[0].name",
        "the Flows name their own variables Output_<name>",
    ),
    (HEADER + GROUNDED.replace("NAME", "context"), "prompt[0].inputs[1].name", "reserved in a grounded prompt"),
    (HEADER + RECORD.replace("NAME", "recordId"), "prompt[0].inputs[1].name", "the record a record prompt's action"),
    (
        HEADER + VALID_PROMPT + 'outputs = [{ name = "answerText" }]\n',
        "prompt[0].outputs[0].name",
        "'answerText' is a name the generated code uses itself (a member of the generated component)",
    ),
    (
        HEADER + VALID_PROMPT + 'outputs = [{ name = "Check_Result" }]\n',
        "prompt[0].outputs[0].name",
        "(an element or variable of the generated Flows)",
    ),
    (
        HEADER + VALID_PROMPT.replace('"Summarize"', '"LightningElement"'),
        "prompt[0].name",
        "the component's JavaScript declares it beside the class the prompt names",
    ),
    (HEADER + VALID_PROMPT.replace('"Summarize"', '"Test"'), "prompt[0].name", "which Jest runs as a test suite"),
    (
        HEADER.replace("[models]", '[models]\nconfigured = "sfdc_ai__DefaultOpenAIGPT4OmniMini"') + VALID_PROMPT,
        "models.configured",
        "becomes the constant CONFIGURED, which the Models class generated with subscriber_models holds",
    ),
    (
        HEADER + VALID_PROMPT.replace("{text}", "{SummarizeService}").replace('"text"', '"SummarizeService"'),
        "prompt[0].inputs[0].name",
        "is the name of the class SummarizeService that this spec generates",
    ),
]


@pytest.mark.parametrize(("text", "key", "rule"), COLLISIONS, ids=[c[1] + ":" + c[2][:30] for c in COLLISIONS])
def test_each_collision_is_one_line_naming_file_key_and_rule(project, cli, text, key, rule):
    write_spec(project, text)
    before = tree(project)

    result = cli("generate", cwd=project)

    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert unplaced(line).startswith(f"error: apexgen.toml: {key}: "), line
    assert rule in line, line
    assert tree(project) == before


def test_a_name_only_one_kind_reserves_stays_free_for_the_others():
    """Reserving is by namespace, not a blanket list: an output may not be named recordId on a component, an
    input of a prompt without record may; a grounded prompt reserves context, another does not."""
    assert input_problem("recordId") is None
    assert input_problem("context") is None
    assert input_problem("sources") is None and input_problem("sources", grounded=True) is not None
    assert output_problem("recordId") is not None
    assert prompt_problem("LightningElement", component=False) is None
