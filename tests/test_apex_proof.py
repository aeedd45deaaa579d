"""Generated Apex proven by Salesforce's own tools, offline, on every run.

The reference project and every golden case are checked with ``apexgen check --deep``'s runner:
jorje (Salesforce's Apex parser), apex-ls with the aiplatform platform types, PMD 7 rules, prettier
(generated Apex must be byte-identical to prettier-plugin-apex's output), the Metadata API XSD and
the sfdx-project.json schema. Property tests feed random names and strings through the generator and
ask jorje what each string literal holds at run time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apexgen.check.deep import prettier_format
from apexgen.check.runner import run_checks
from apexgen.check.toolchain import require_toolchain
from apexgen.generate.plan import expected_prompt, render_plan
from apexgen.spec.load import parse_spec
from apexgen.spec.naming import MAX_CLASS_NAME, UNPRINTABLE, identifier_problem
from apexgen.spec.reserved import input_problem
from apexgen.spec.types import SHARED_CLASSES, UNTESTED_SHARED_CLASSES, template_fields
from tests.conftest import REPO, copy_reference
from tests.test_golden import CASE_NAMES, CASES

# Every test here runs Salesforce's real tools (jorje, prettier, apex-ls, PMD): the full tier.
pytestmark = pytest.mark.tools


def generated_project(cli, tmp_path: Path, spec: Path) -> Path:
    """A project made the way a user makes one: init, the spec, generate."""
    import tomllib

    project = tomllib.loads(spec.read_text("utf-8")).get("project", {})
    root = tmp_path / spec.parent.name
    init = cli(
        "init",
        str(root),
        "--api-version",
        project.get("api_version", "65.0"),
        "--namespace",
        project.get("namespace", ""),
    )
    assert init.exit_code == 0, init.output
    shutil.copy(spec, root / "apexgen.toml")
    result = cli("generate", cwd=root)
    assert result.exit_code == 0, result.output
    return root


def test_reference_project_passes_every_offline_check(tmp_path):
    findings = run_checks(copy_reference(tmp_path), deep=True)
    assert [str(f) for f in findings] == []


@pytest.mark.parametrize("case", CASE_NAMES)
def test_golden_case_passes_every_offline_check(cli, tmp_path, case):
    root = generated_project(cli, tmp_path, CASES / case / "apexgen.toml")
    findings = run_checks(root, deep=True)
    assert [str(f) for f in findings] == []


def test_init_then_generate_is_clean(cli, tmp_path):
    """The issue's acceptance path: apexgen init demo && cd demo && apexgen generate."""
    root = generated_project(cli, tmp_path, REPO / "apexgen.toml")
    assert run_checks(root, deep=True) == []


# --- property tests -------------------------------------------------------------------------------


def jorje_ast(path: Path) -> dict:
    """jorje's AST of an Apex file, from the native parser that prettier-plugin-apex ships."""
    serializer = next(
        require_toolchain(REPO).node_modules.glob("@prettier-apex/apex-ast-serializer-*/apex-ast-serializer-*")
    )
    return json.loads(
        subprocess.run([str(serializer), "-l", str(path)], capture_output=True, text=True, check=True).stdout
    )


def ast_nodes(node):
    """Every dict node of a jorje AST, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from ast_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from ast_nodes(value)


def jorje_strings(paths: list[Path]) -> dict[Path, set[str]]:
    """The run-time value of every string literal and annotation string of each file, as jorje reads it."""
    values: dict[Path, set[str]] = {}
    for path in paths:
        nodes = list(ast_nodes(jorje_ast(path)))
        errors = [str(error) for node in nodes for error in node.get("parseErrors", [])]
        assert errors == [], f"{path.name}: {errors}"
        values[path] = {node["value"] for node in nodes if node.get("@class", "").endswith("StringAnnotationValue")}
        values[path] |= {node["$"] for node in nodes if node.get("@class") == "string" and "$" in node}
    return values


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string, every character that needs it escaped."""
    out = []
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or code == 0x7F or code > 0x7E:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


SPECIAL = st.sampled_from(
    [
        "'",
        "\\",
        "\n",
        "\t",
        "\r",
        "*/",
        "/*",
        "{!x}",
        '"',
        "\\u0041",
        "é",
        "日本語",
        "😀",
        "👨\u200d👩\u200d👧",
        "e\u0301",
        "\u2028",
        "\x00",
        "\x7f",
        "ﬁ",
        "한국어",
        "🇫🇷",
        " ",
        "@param",
        "//",
    ]
)
ANY_TEXT = st.lists(
    st.one_of(SPECIAL, st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)), min_size=1, max_size=10
).map("".join)
LABEL_TEXT = ANY_TEXT.map(lambda s: UNPRINTABLE.sub("", s).strip() or "Label").filter(lambda s: bool(s))
LONG_LABEL = st.tuples(LABEL_TEXT, st.integers(0, 90)).map(lambda pair: (pair[0] + " word" * (pair[1] // 5))[:200])
TYPES = st.sampled_from(["String", "Integer", "Long", "Decimal", "Double", "Boolean", "Date", "Datetime", "Id"])


def identifier(first: str, max_size: int):
    return st.from_regex(rf"{first}[A-Za-z0-9]{{0,{max_size}}}", fullmatch=True).filter(
        lambda n: identifier_problem(n) is None
    )


@st.composite
def specs(draw):
    names = draw(
        st.lists(identifier("[a-z]", 20), min_size=1, max_size=4, unique_by=str.lower).filter(
            lambda ns: all(input_problem(n) is None for n in ns)
        )
    )
    pieces = []
    for name in names:
        pieces.append(draw(ANY_TEXT).replace("{", "{{").replace("}", "}}"))
        pieces.append("{" + name + "}")
    template = "".join(pieces) + draw(ANY_TEXT).replace("{", "{{").replace("}", "}}")
    assert template_fields(template) == names
    inputs = ", ".join(
        f"{{ name = {toml_string(n)}, type = {toml_string(draw(TYPES))}, label = {toml_string(draw(LONG_LABEL))}, "
        f"description = {toml_string(draw(LABEL_TEXT))}, required = {str(draw(st.booleans())).lower()} }}"
        for n in names
    )
    capability = draw(st.sampled_from(["generate", "chat"]))
    prompt_name = draw(identifier("[A-Z]", 24))
    # The spec refuses an empty system message (a chat without one leaves the key out).
    system = f"system = {toml_string(draw(ANY_TEXT.filter(bool)))}\n" if capability == "chat" else ""
    return f"""
[project]
prefix = "P"
category = {toml_string(draw(LABEL_TEXT))}

[models]
m = "sfdc_ai__DefaultGPT41"

[[prompt]]
name = "{prompt_name}"
capability = "{capability}"
model = "m"
{system}template = {toml_string(template)}
inputs = [{inputs}]
label = {toml_string(draw(LONG_LABEL))}
description = {toml_string(draw(LONG_LABEL))}
"""


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(text=specs())
def test_spec_strings_reach_apex_exactly_and_prettier_changes_nothing(tmp_path_factory, text):
    spec = parse_spec(text)
    prompt = spec.prompts[0]
    root = tmp_path_factory.mktemp("property")
    (root / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app", "default": true}]}')
    (root / ".prettierrc").write_text((REPO / ".prettierrc").read_text())
    files = {}
    for planned in render_plan(spec):
        if planned.path.endswith(".cls") and Path(planned.path).stem.startswith(prompt.name):
            path = root / planned.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(planned.content, "utf-8")
            files[Path(planned.path).stem] = path

    strings = jorje_strings(list(files.values()))

    service = strings[files[prompt.service_class]]
    assert prompt.template in service
    if prompt.system is not None:
        assert prompt.system in service
    assert expected_prompt(prompt) in strings[files[f"{prompt.service_class}Test"]]
    action = strings[files[prompt.action_class]]
    for value in (
        [prompt.label, prompt.description, prompt.category]
        + [i.label for i in prompt.inputs]
        + [i.description for i in prompt.inputs]
    ):
        assert value in action
    formatted = prettier_format(root, list(files.values()))
    for path in files.values():
        assert formatted[path] == path.read_text("utf-8"), f"prettier would change {path.name}"


# --- models try sends what the generated Apex sends ----------------------------------------------


def jorje_constants(path: Path) -> dict[str, str]:
    """``static final String`` constants of a class: name -> run-time value, as jorje reads them."""
    constants = {}
    for node in ast_nodes(jorje_ast(path)):
        literal = (node.get("assignment") or {}).get("value", {}).get("literal", {})
        if node.get("@class", "").endswith("VariableDecl") and literal.get("@class") == "string":
            constants[node["name"]["value"]] = literal["$"]
    return constants


def test_models_try_sends_what_the_generated_apex_sends():
    """For every text prompt of the reference spec, the request `apexgen models try` sends equals the
    one the generated service builds: its TEMPLATE and SYSTEM_MESSAGE constants, merged with the
    pattern of the generated AiPromptTemplate, for the model of the generated AiModels constant."""
    import re

    from apexgen.models_api.client import prompt_request
    from apexgen.spec.load import load_spec

    classes = REPO / "force-app/main/default/classes"
    spec = load_spec(REPO / "apexgen.toml")
    pattern = next(s for s in jorje_strings([classes / "AiPromptTemplate.cls"]).popitem()[1] if "\\{" in s)
    models = jorje_constants(classes / "AiModels.cls")
    text_prompts = [p for p in spec.prompts if p.capability in ("generate", "chat")]
    assert text_prompts and any(p.outputs for p in text_prompts)
    for prompt in text_prompts:
        constants = jorje_constants(classes / f"{prompt.service_class}.cls")
        values = {item.name: f"{item.label} {{x}} \\ 'quoted'\n" for item in prompt.inputs}

        def apex_merge(match: re.Match[str], values: dict[str, str] = values) -> str:
            return values.get(match.group(1), "") if match.group(1) else match.group(0)[0]

        # buildPrompt: the merged TEMPLATE, then OUTPUT_FORMAT when the prompt has outputs
        user_message = re.sub(pattern, apex_merge, constants["TEMPLATE"]) + constants.get("OUTPUT_FORMAT", "")
        request = prompt_request(prompt, values)

        assert models[prompt.model.constant] in request.path
        if prompt.capability == "chat":
            expected = (
                [{"role": "system", "content": constants["SYSTEM_MESSAGE"]}] if "SYSTEM_MESSAGE" in constants else []
            )
            assert request.body["messages"] == expected + [{"role": "user", "content": user_message}]
        else:
            assert request.body["prompt"] == user_message


def classes_prettier_changes(spec, tmp_path: Path) -> list[str]:
    """The generated classes of ``spec`` that prettier-plugin-apex would print otherwise."""
    (tmp_path / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app", "default": true}]}')
    (tmp_path / ".prettierrc").write_text((REPO / ".prettierrc").read_text())
    files = []
    for planned in render_plan(spec):
        if planned.path.endswith(".cls"):
            path = tmp_path / planned.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(planned.content, "utf-8")
            files.append(path)
    formatted = prettier_format(tmp_path, files)
    assert sorted(formatted) == sorted(files)
    return [path.name for path in files if formatted[path] != path.read_text("utf-8")]


ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
LONGEST_NAME = ("outputNameThatIsLong" * 4)[:80]  # MAX_NAME: Flow allows no longer API name


def test_an_80_character_output_and_zero_width_text_are_what_prettier_prints(tmp_path):
    """Issue 23, item 7: these two made the generated Apex differ from prettier's (a call after a cast left
    unbroken, results[i].<name> that prettier breaks, a trailing U+FEFF that prettier trims from a comment)."""
    z = ZERO_WIDTH
    spec = parse_spec(
        f"""
[project]
prefix = "Ai"
[models]
fast = "sfdc_ai__DefaultOpenAIGPT4OmniMini"
[[prompt]]
name = "Summarize"
capability = "generate"
model = "fast"
template = "Summarize{z}: {{text}}{z}"
label = "Sum{z}marize"
description = "Description of it{z}"
inputs = [{{ name = "text", label = "Te{z}xt", description = "The text{z}" }}]
outputs = [{{ name = "{LONGEST_NAME}", description = "Out{z}put" }}, {{ name = "category", choices = ["A{z}", "B"] }}]
flows = ["autolaunched", "screen"]
"""
    )
    assert classes_prettier_changes(spec, tmp_path) == []


def longest_prefix() -> str:
    """The longest prefix the spec accepts: its longest shared class name is Apex's longest class name."""
    longest_shared = max(
        (
            f"{name}{suffix}"
            for name in SHARED_CLASSES
            for suffix in ("", "Test")
            if name not in UNTESTED_SHARED_CLASSES
        ),
        key=len,
    )
    return ("Acme" * 10)[: MAX_CLASS_NAME - len(longest_shared)]


def test_the_example_with_the_longest_prefix_is_what_prettier_prints(tmp_path):
    """Template lines whose width grows with the prefix (a call on a shared class after `=`, `==` or `??`)
    are broken by prettier differently from how apexgen's formatter breaks argument groups: the templates keep
    them short. With a 15- and a 21-character prefix, 4 and 7 classes of the example differed from prettier."""
    prefix = longest_prefix()
    example = (REPO / "apexgen.toml").read_text("utf-8")
    spec = parse_spec(example.replace('prefix = "Ai"', f'prefix = "{prefix}"', 1))
    assert spec.project.prefix == prefix
    assert classes_prettier_changes(spec, tmp_path) == []
