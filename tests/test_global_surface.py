"""The global surface of a managed package is exactly the documented one: every ``global`` in the generated code of a
namespaced spec that uses every capability (record triggers, flows, components, outputs, feedback, embeddings) is
listed and compared with README's promise: the Flow actions' class, ``run``, ``Request`` and ``Result`` and their
variables. Whatever later work adds to the generated Apex is held to the same rule."""

from __future__ import annotations

import re
from pathlib import Path

from apexgen.generate.plan import render_plan
from apexgen.packaging.surface import apex_globals
from apexgen.spec.load import load_spec
from apexgen.spec.types import Prompt, Spec
from tests.conftest import REPO, write_spec

# The Result variables README documents for each kind of action (besides the prompt's typed outputs).
RESULT_VARIABLES = {
    "generate": [
        "text",
        "textHtml",
        "generationId",
        "toxicityDetected",
        "toxicityScore",
        "totalTokens",
        "promptTokens",
        "completionTokens",
        "finishReason",
    ],
    "embed": ["similarity"],
    "feedback": ["message"],
}
RESULT_VARIABLES["chat"] = RESULT_VARIABLES["generate"]
RESULT_VARIABLES["search"] = ["recordIds", "texts", "scores", "context"]
FEEDBACK_CONTEXT = ["appGenerationId", "appGeneration"]  # README: the feedback action's optional app context


def namespaced_reference_spec(tmp_path: Path) -> Spec:
    """The repository's own spec (every capability, a record trigger, flows, components) in a managed package."""
    text = (REPO / "apexgen.toml").read_text()
    assert 'namespace = ""' in text
    return load_spec(write_spec(tmp_path, text.replace('namespace = ""', 'namespace = "acme"', 1)))


def documented_surface(prompt: Prompt) -> set[str]:
    action = prompt.action_class
    request = [item.name for item in prompt.call_inputs]
    if prompt.capability == "feedback":
        request += FEEDBACK_CONTEXT
    result = ["isSuccess", "errorMessage", "responseCode", *RESULT_VARIABLES[prompt.capability]]
    if prompt.record:
        request += ["recordId", "writeToRecord"]  # README: Record-triggered automation
        result.append("queued")
    result += [output.name for output in prompt.outputs or ()]
    if prompt.ground:
        result.append("sourceIds")  # README: a grounded prompt's sources
    return (
        {action, f"{action}.run(List<Request>)", f"{action}.Request", f"{action}.Result"}
        | {f"{action}.Request.{name}" for name in request}
        | {f"{action}.Result.{name}" for name in result}
    )


def test_every_global_of_a_namespaced_project_is_the_documented_surface(tmp_path: Path) -> None:
    spec = namespaced_reference_spec(tmp_path)
    assert {p.capability for p in spec.prompts} == {"generate", "chat", "embed", "feedback", "search"}
    assert any(p.record for p in spec.prompts) and any(p.flows for p in spec.prompts)
    declared: set[str] = set()
    global_lines = 0
    for planned in render_plan(spec):
        if planned.path.endswith((".cls", ".trigger")):
            declared |= set(apex_globals(planned.content))
            global_lines += len(re.findall(r"^\s*global\b", planned.content, re.MULTILINE))
        else:
            assert not re.search(r"\bglobal\s+(with|without|inherited|class|static)", planned.content), planned.path

    expected = set().union(*(documented_surface(p) for p in spec.prompts if "flow" in p.expose))
    # README, Running it in production: the run log's Flow action "Retry Model Runs"
    retry = f"{spec.project.prefix}ModelRunRetry"
    expected |= {retry, f"{retry}.retry(List<Id>)"} if spec.job_works() else set()
    assert sorted(declared - expected) == [], "global beyond the documented surface"
    assert sorted(expected - declared) == [], "documented surface not global"
    assert global_lines == len(declared), "a global declaration the surface scanner did not see"


def test_the_record_job_and_its_work_are_public_in_a_managed_package(tmp_path: Path) -> None:
    """Any subscriber code could enqueue a global Queueable with any record Ids, and it could never be removed."""
    spec = namespaced_reference_spec(tmp_path)
    sources = {f.path.rsplit("/", 1)[1]: f.content for f in render_plan(spec) if f.path.endswith(".cls")}
    assert "global with sharing class TriageCaseAction" in sources["TriageCaseAction.cls"]
    for name in ("AiModelJob", "AiModelWork", "TriageCaseRecordWork", "TriageCaseRecordBatch", "AiRecordWrites"):
        assert not re.search(r"^\s*global\b", sources[f"{name}.cls"], re.MULTILINE), name


def test_subscriber_models_are_on_by_default_with_a_namespace_and_can_be_turned_off(tmp_path: Path) -> None:
    spec = namespaced_reference_spec(tmp_path)
    assert spec.project.subscriber_models
    assert not load_spec(REPO / "apexgen.toml").project.subscriber_models
    text = (tmp_path / "apexgen.toml").read_text().replace("[project]\n", "[project]\nsubscriber_models = false\n", 1)
    assert not load_spec(write_spec(tmp_path, text)).project.subscriber_models
