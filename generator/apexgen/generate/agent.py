"""The Agentforce metadata of a spec: an agent action (GenAiFunction bundle) over the Flow action of each prompt
exposed to agent, and a topic (GenAiPlugin) for each ``[[topic]]``.

The schemas are mapped from the action class as rendered (``generate.invocable`` reads its variables), so they
agree with it by construction, with the same mapping the check applies to any project.
"""

from __future__ import annotations

from apexgen.generate.agent_schema import SchemaVariable, class_type_namer, input_schema, output_schema, schema_text
from apexgen.generate.invocable import element_type, read_apex
from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import render
from apexgen.spec.types import Prompt, Spec

AGENT_DIR = "main/default"
# The Result fields an agent needs: the answer (text, similarity or message), whether the request succeeded and
# why not; with the prompt's typed outputs. Token counts, the HTML copy and the like stay Flow-only.
AGENT_RESULT_FIELDS = ("text", "similarity", "message", "isSuccess", "errorMessage")
# Topics and their instructions are written in this language (GenAiPlugin's language).
TOPIC_LANGUAGE = "en_US"


def _action_variables(prompt: Prompt, source: str) -> tuple[list[SchemaVariable], list[SchemaVariable], set[str]]:
    """The inputs and outputs the agent action shows of the rendered action class ``source``, and its inner classes."""
    apex = read_apex(source)
    method = apex.methods[0]
    request = apex.resolve(element_type(method.parameter_type) or "", method.owner)
    result = apex.resolve(element_type(method.return_type) or "", method.owner)
    if request is None or result is None:  # the action templates always declare both
        raise ValueError(f"{prompt.action_class}: the rendered action has no Request or Result class")
    by_name = {item.name: item for item in prompt.call_inputs}
    inputs = [
        SchemaVariable(
            v.name,
            v.type,
            v.label,
            v.description,
            v.required,
            pii=by_name[v.name].pii,
            long_text=by_name[v.name].multiline,
        )
        for v in request.variables
        if v.name in by_name  # not the record Id a record-triggered Flow passes
    ]
    wanted = set(AGENT_RESULT_FIELDS) | {item.name for item in prompt.outputs}
    outputs = [
        SchemaVariable(v.name, v.type, v.label, v.description, v.required, long_text=True)
        for v in result.variables
        if v.name in wanted
    ]
    inner = {name.split(".", 1)[1] for name in apex.classes if "." in name}
    return inputs, outputs, inner


def agent_files(spec: Spec, rendered: list[PlannedFile]) -> list[PlannedFile]:
    """The GenAiFunction bundle of each prompt exposed to agent and the GenAiPlugin of each topic."""
    base = f"{spec.project.package_dir}/{AGENT_DIR}"
    sources = {file.path.rsplit("/", 1)[-1]: file.content for file in rendered}
    files: list[PlannedFile] = []
    for prompt in spec.prompts:
        if "agent" not in prompt.expose:
            continue
        inputs, outputs, inner = _action_variables(prompt, sources[f"{prompt.action_class}.cls"])
        namer = class_type_namer(prompt.action_class, inner, spec.project.namespace)
        folder = f"{base}/genAiFunctions/{prompt.agent_function}"
        files += [
            PlannedFile(
                f"{folder}/{prompt.agent_function}.genAiFunction-meta.xml",
                render("agent/genAiFunction-meta.xml.jinja", prompt=prompt),
            ),
            PlannedFile(f"{folder}/input/schema.json", schema_text(input_schema(inputs, namer))),
            PlannedFile(f"{folder}/output/schema.json", schema_text(output_schema(outputs, namer))),
        ]
    functions = {prompt.name: prompt.agent_function for prompt in spec.prompts}
    for topic in spec.topics:
        files.append(
            PlannedFile(
                f"{base}/genAiPlugins/{topic.name}.genAiPlugin-meta.xml",
                render("agent/genAiPlugin-meta.xml.jinja", topic=topic, functions=functions, language=TOPIC_LANGUAGE),
            )
        )
    return files
