"""The Apex classes of a spec: shared types, and per prompt its service, Flow action and LWC controller,
each with its test class. Apex comes out formatted as prettier-plugin-apex formats it (see apex_format.py)."""

from __future__ import annotations

from typing import Any

from apexgen.generate.apex_format import format_apex
from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import SAMPLE_VALUES, render
from apexgen.spec.types import CONTEXT_PLACEHOLDER, Prompt, Spec

CLASSES_DIR = "main/default/classes"

# layer -> (class template, test template); {kind} is text, embed, feedback or search
TEMPLATES = {
    "service": ("apex/service/{kind}.cls.jinja", "apex/service/{kind}Test.cls.jinja"),
    "action": ("apex/action/{kind}.cls.jinja", "apex/action/test.cls.jinja"),
    "controller": ("apex/controller/controller.cls.jinja", "apex/controller/test.cls.jinja"),
    "record_work": ("apex/record/work.cls.jinja", "apex/record/workTest.cls.jinja"),
    "record_batch": ("apex/record/batch.cls.jinja", "apex/record/batchTest.cls.jinja"),
}
KIND_OF = {"generate": "text", "chat": "text", "embed": "embed", "feedback": "feedback", "search": "search"}


def expected_prompt(prompt: Prompt) -> str:
    """The prompt text ``sample_value`` inputs merge into, as Apex's String.valueOf prints them."""
    values = {}
    for item in prompt.inputs:
        _, printed = SAMPLE_VALUES[item.type]
        values[item.name] = printed.replace("{label}", f"Sample {item.label}")
    if prompt.ground:
        values[CONTEXT_PLACEHOLDER] = "Sample context"  # what the generated test passes as the context
    return prompt.render_prompt(values)


def apex_class(spec: Spec, name: str, template: str, **context: Any) -> list[PlannedFile]:
    folder = f"{spec.project.package_dir}/{CLASSES_DIR}"
    # In a managed package, subscribers' Flows reach only global invocable actions (and their Request and Result
    # types). A released global can never be removed, so everything else stays public: the package's own
    # components call their controllers' public @AuraEnabled methods from inside the namespace, and a global
    # action's public methods may take public types (Result.succeeded takes the shared Generation). The run log's
    # retry action is a Flow action too.
    flow_action = template.startswith("apex/action/") or template == "apex/shared/ModelRunRetry.cls.jinja"
    access = "global" if spec.project.namespace and flow_action else "public"
    source = format_apex(
        render(template, spec=spec, project=spec.project, p=spec.project.prefix, access=access, **context)
    )
    meta = render("apex/class.cls-meta.xml.jinja", project=spec.project)
    # The test data factory is written once: the user adapts it to the org's validation rules.
    once = template == "apex/shared/TestData.cls.jinja"
    return [PlannedFile(f"{folder}/{name}.cls", source, once), PlannedFile(f"{folder}/{name}.cls-meta.xml", meta, once)]
