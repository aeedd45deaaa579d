"""Bad specs: one line naming the file, the key and the rule; exit code 2; nothing written."""

from __future__ import annotations

import pytest

from tests.conftest import tree, unplaced, write_spec

VALID_PROMPT = """
[[prompt]]
name = "Summarize"
capability = "generate"
model = "fast"
template = "Summarize: {text}"
inputs = [{ name = "text" }]
"""
HEADER = """
[project]
prefix = "Ai"

[models]
fast = "sfdc_ai__DefaultOpenAIGPT4OmniMini"
vectors = "sfdc_ai__DefaultOpenAITextEmbeddingAda_002"
"""


def spec_with(prompt: str, header: str = HEADER) -> str:
    return header + prompt


BAD_SPECS = [
    # (what is wrong, spec text, key named, words of the rule)
    ("not TOML", "[project\n", "", "is not valid TOML"),
    ("unknown top key", HEADER + VALID_PROMPT + "\n[extra]\n", "extra", "unknown key"),
    (
        "unknown prompt key",
        spec_with(VALID_PROMPT.replace("capability", 'colour = "red"\ncapability')),
        "prompt[0].colour",
        "unknown key",
    ),
    ("missing name", spec_with(VALID_PROMPT.replace('name = "Summarize"\n', "")), "prompt[0].name", "is required"),
    ("missing prompts", HEADER, "prompt", "is required"),
    (
        "wrong type",
        spec_with(VALID_PROMPT.replace('name = "Summarize"', "name = 3")),
        "prompt[0].name",
        "must be of type string",
    ),
    (
        "unknown capability",
        spec_with(VALID_PROMPT.replace('"generate"', '"translate"')),
        "prompt[0].capability",
        "must be one of",
    ),
    (
        "bad input type",
        spec_with(VALID_PROMPT.replace('{ name = "text" }', '{ name = "text", type = "Blob" }')),
        "prompt[0].inputs[0].type",
        "must be one of",
    ),
    ("reserved word", spec_with(VALID_PROMPT.replace('"Summarize"', '"Trigger"')), "prompt[0].name", "reserved word"),
    (
        "bad character",
        spec_with(VALID_PROMPT.replace('"Summarize"', '"Sum-marize"')),
        "prompt[0].name",
        "only letters, digits and underscores",
    ),
    (
        "starts with digit",
        spec_with(VALID_PROMPT.replace('"Summarize"', '"9Lives"')),
        "prompt[0].name",
        "must start with a letter",
    ),
    (
        "double underscore",
        spec_with(VALID_PROMPT.replace('"Summarize"', '"Sum__marize"')),
        "prompt[0].name",
        "two underscores",
    ),
    (
        "trailing underscore",
        spec_with(VALID_PROMPT.replace('"Summarize"', '"Summarize_"')),
        "prompt[0].name",
        "end with an underscore",
    ),
    (
        "too long",
        spec_with(VALID_PROMPT.replace('"Summarize"', '"SummarizeEverythingInTheCase"')),
        "prompt[0].name",
        "Apex allows at most 40",
    ),
    (
        "reserved input",
        spec_with(VALID_PROMPT.replace("{text}", "{select}").replace('"text"', '"select"')),
        "prompt[0].inputs[0].name",
        "reserved word",
    ),
    (
        "input used by generated code",
        spec_with(VALID_PROMPT.replace("{text}", "{history}").replace('"text"', '"history"')),
        "prompt[0].inputs[0].name",
        "generated code uses itself",
    ),
    (
        "unknown alias",
        spec_with(VALID_PROMPT.replace('model = "fast"', 'model = "slow"')),
        "prompt[0].model",
        "unknown model alias 'slow'",
    ),
    (
        "model cannot",
        spec_with(VALID_PROMPT.replace('model = "fast"', 'model = "vectors"')),
        "prompt[0].model",
        "cannot generate",
    ),
    (
        "unknown standard model",
        HEADER.replace("sfdc_ai__DefaultOpenAIGPT4OmniMini", "sfdc_ai__DefaultGPT9") + VALID_PROMPT,
        "models.fast",
        "not a known standard model",
    ),
    (
        "retired model",
        HEADER.replace("sfdc_ai__DefaultOpenAIGPT4OmniMini", "sfdc_ai__DefaultOpenAIGPT4Turbo") + VALID_PROMPT,
        "models.fast",
        "retired",
    ),
    (
        "field not an input",
        spec_with(VALID_PROMPT.replace("{text}", "{text} {tone}")),
        "prompt[0].template",
        "{tone} is not an input",
    ),
    (
        "input not used",
        spec_with(VALID_PROMPT.replace('[{ name = "text" }]', '[{ name = "text" }, { name = "tone" }]')),
        "prompt[0].inputs[1]",
        "not used by the template",
    ),
    (
        "stray brace",
        spec_with(VALID_PROMPT.replace("Summarize: {text}", "Summarize {text} as {json")),
        "prompt[0].template",
        "not part of a {field}",
    ),
    (
        "duplicate input",
        spec_with(VALID_PROMPT.replace('[{ name = "text" }]', '[{ name = "text" }, { name = "Text" }]')),
        "prompt[0].inputs[1].name",
        "repeats inputs[0]",
    ),
    (
        "duplicate prompt",
        spec_with(VALID_PROMPT + VALID_PROMPT.replace('"Summarize"', '"summarize"')),
        "prompt[1].name",
        "would write class",
    ),
    (
        "same name other case",
        spec_with(VALID_PROMPT + VALID_PROMPT.replace('"Summarize"', '"SUMMARIZE"')),
        "prompt[1].name",
        "SUMMARIZEService",
    ),
    (
        "key not for capability",
        spec_with(VALID_PROMPT.replace('capability = "generate"', 'capability = "generate"\nsystem = "Be brief"')),
        "prompt[0].system",
        "not used by capability 'generate'",
    ),
    (
        "feedback with model",
        spec_with('[[prompt]]\nname = "Rate"\ncapability = "feedback"\nmodel = "fast"\n'),
        "prompt[0].model",
        "not used by capability 'feedback'",
    ),
    (
        "missing template",
        spec_with(
            VALID_PROMPT.replace('template = "Summarize: {text}"\n', "").replace('inputs = [{ name = "text" }]\n', "")
        ),
        "prompt[0].template",
        "is required",
    ),
    (
        "bad locale",
        spec_with(VALID_PROMPT + 'localization = { default_locale = "english" }\n'),
        "prompt[0].localization.default_locale",
        "Salesforce locale",
    ),
    (
        "bad api version",
        HEADER.replace('prefix = "Ai"', 'api_version = "65"') + VALID_PROMPT,
        "project.api_version",
        "API version such as '65.0'",
    ),
    (
        "old api version",
        HEADER.replace('prefix = "Ai"', 'api_version = "58.0"') + VALID_PROMPT,
        "project.api_version",
        "61.0 or later",
    ),
    ("bad prefix", HEADER.replace('prefix = "Ai"', 'prefix = "A i"') + VALID_PROMPT, "project.prefix", "only letters"),
    (
        "flow without inputs",
        spec_with(
            '[[prompt]]\nname = "Joke"\ncapability = "generate"\nmodel = "fast"\ntemplate = "Tell a joke"\nexpose = ["flow"]\n'
        ),
        "prompt[0].expose",
        "needs at least one input",
    ),
    (
        "unknown lwc target",
        spec_with(VALID_PROMPT + 'lwc_targets = ["app_page", "utility_bar"]\n'),
        "prompt[0].lwc_targets[1]",
        "must be one of: record_page, app_page, home_page, flow_screen",
    ),
    (
        "unknown project lwc target",
        HEADER.replace('prefix = "Ai"', 'prefix = "Ai"\nlwc_targets = ["record"]') + VALID_PROMPT,
        "project.lwc_targets[0]",
        "must be one of: record_page, app_page, home_page, flow_screen",
    ),
    (
        "lwc targets not a list",
        spec_with(VALID_PROMPT + 'lwc_targets = "app_page"\n'),
        "prompt[0].lwc_targets",
        "array",
    ),
    (
        "lwc_public names no input",
        spec_with(VALID_PROMPT + 'lwc_public = ["txt"]\n'),
        "prompt[0].lwc_public[0]",
        "'txt' is not an input of this prompt (inputs: text)",
    ),
    (
        "lwc_public names an input LWC cannot make public",
        spec_with(
            VALID_PROMPT.replace("{text}", "{dataSource}").replace('"text"', '"dataSource"')
            + 'lwc_public = ["dataSource"]\n'
        ),
        "prompt[0].lwc_public[0]",
        "'dataSource' cannot be a public property of the component: it starts with 'data'",
    ),
    (
        "lwc keys without lwc",
        spec_with(VALID_PROMPT + 'expose = ["flow"]\nlwc_targets = ["app_page"]\n'),
        "prompt[0].lwc_targets",
        'needs the prompt exposed to lwc (add "lwc" to expose)',
    ),
]


@pytest.mark.parametrize("problem, text, key, rule", BAD_SPECS, ids=[case[0] for case in BAD_SPECS])
def test_bad_spec_is_one_clear_line_and_writes_nothing(project, cli, problem, text, key, rule):
    write_spec(project, text)
    before = tree(project)

    result = cli("generate", cwd=project)

    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert unplaced(lines[0]).startswith(f"error: apexgen.toml: {key}" if key else "error: apexgen.toml"), lines[0]
    assert rule in lines[0], lines[0]
    assert "Traceback" not in unplaced(result.output)
    assert tree(project) == before


def test_missing_spec_names_the_file(tmp_path, cli):
    result = cli("generate", "--spec", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2
    assert "nope.toml: file not found" in result.output


def test_configured_model_needs_its_capabilities(project, cli):
    text = (
        HEADER.replace(
            'fast = "sfdc_ai__DefaultOpenAIGPT4OmniMini"',
            'fast = { configured = "MyTunedModel", capabilities = ["chat"] }',
        )
        + VALID_PROMPT
    )
    write_spec(project, text)
    result = cli("generate", cwd=project)
    assert result.exit_code == 2
    assert "prompt[0].model: model 'fast' (MyTunedModel) cannot generate" in result.output


def test_a_spec_error_carries_line_and_column_names_the_prompt_and_suggests_the_key(project, cli):
    spec = project / "apexgen.toml"
    text = spec.read_text()
    spec.write_text(text.replace("\nsystem = ", "\nsytem = ", 1))
    line_number = [line.startswith("sytem") for line in spec.read_text().splitlines()].index(True) + 1

    result = cli("generate", cwd=project)

    assert result.exit_code == 2
    assert result.output.startswith(f"error: apexgen.toml:{line_number}:1: prompt[0].sytem: unknown key (allowed here:")
    assert "; did you mean 'system'? (prompt 'SummarizeCase')" in result.output
    finding = cli("check", "--project-dir", str(project)).output.splitlines()[0]
    assert finding.startswith(f"apexgen.toml:{line_number}:1 error spec invalid prompt[0].sytem: unknown key")


def test_a_misspelt_choice_is_suggested(project, cli):
    spec = project / "apexgen.toml"
    spec.write_text(spec.read_text().replace('capability = "chat"', 'capability = "caht"', 1))
    result = cli("generate", cwd=project)
    assert "must be one of: generate, chat, embed, feedback, search; did you mean 'chat'?" in result.output


def test_key_positions_follow_tables_arrays_of_tables_and_inline_values():
    from apexgen.spec.positions import key_positions

    text = (
        '[project]\napi_version = "65.0"\n\n[[prompt]]\nname = "A"\ntemplate = """\n[[prompt]]\nx = 1\n"""\n'
        '[[prompt]]\nname = \'B\'\ninputs = [\n  { name = "one" },\n  { name = "two", label = "Two" },\n]\n'
        '[prompt.record]\nobject = "Case"\n'
    )
    positions = key_positions(text)
    assert positions[("project", "api_version")] == (2, 1)
    assert positions[("prompt", 0, "template")] == (6, 1)
    assert ("prompt", 0, "x") not in positions and ("prompt", 2) not in positions  # inside a multi-line string
    assert positions[("prompt", 1, "name")] == (11, 1)
    assert positions[("prompt", 1, "inputs", 1, "label")] == (14, 19)
    assert positions[("prompt", 1, "record", "object")] == (17, 1)
