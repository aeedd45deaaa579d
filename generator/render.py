"""Stage 3: turn a validated ``Spec`` into a render plan, the list of files with their full content.

Rendering is pure: it reads templates and the spec, touches no project file, and gives the same
bytes for the same spec. Apex comes out formatted as prettier-plugin-apex formats it (see layout.py).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from generator.layout import format_apex
from generator.lwc import lwc_bundle
from generator.model import UNTESTED_SHARED_CLASSES, Input, Prompt, Spec, merge_template
from generator.naming import annotation_string, apex_string, doc_text
from generator.write import PlannedFile

CLASSES_DIR = "main/default/classes"

# One sample value per input type, as Apex source and as Apex's String.valueOf prints it: generated
# tests pass the first to the service and expect the second in the merged prompt.
SAMPLE_VALUES: dict[str, tuple[str, str]] = {
    "String": ("'{label}'", "{label}"),
    "Integer": ("42", "42"),
    "Long": ("42L", "42"),
    "Decimal": ("4.2", "4.2"),
    "Double": ("4.2", "4.2"),
    "Boolean": ("true", "true"),
    "Date": ("Date.newInstance(2024, 1, 31)", "2024-01-31"),
    "Datetime": ("Datetime.newInstanceGmt(2024, 1, 31, 12, 30, 0)", "2024-01-31 12:30:00"),
    "Id": ("Id.valueOf('005000000000001AAA')", "005000000000001AAA"),
}


def templates_root() -> Path:
    """The templates folder: inside the installed wheel, or at the top of a source checkout."""
    packaged = Path(str(resources.files("generator"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def _bytecode_cache() -> Any:
    """Compiled templates kept between runs (Jinja checks them against the template's modification
    time), or none when the cache folder cannot be made."""
    import jinja2

    from generator.toolchain import user_cache_dir

    folder = user_cache_dir() / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


@cache
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_root())),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        auto_reload=False,  # templates do not change while apexgen runs: no stat per rendered file
    )
    env.filters["apex_string"] = apex_string
    env.filters["annotation_string"] = annotation_string
    env.filters["doc"] = doc_lines
    env.globals["sample"] = sample_value
    return env


def doc_lines(value: str, indent: int = 0) -> str:
    """Text for an ApexDoc block: the first line as is, each further line prefixed with `` * ``."""
    pad = " " * indent
    lines = doc_text(value)
    return lines[0] + "".join(f"\n{pad} *" + (f" {line}" if line else "") for line in lines[1:])


def sample_value(item: Input) -> str:
    """The Apex expression a generated test passes for ``item``."""
    if item.sample is not None:
        return item.sample
    source, _ = SAMPLE_VALUES[item.type]
    return source.replace("'{label}'", apex_string(f"Sample {item.label}"))


def expected_prompt(prompt: Prompt) -> str:
    """The prompt text ``sample_value`` inputs merge into, as Apex's String.valueOf prints them."""
    values = {}
    for item in prompt.inputs:
        _, printed = SAMPLE_VALUES[item.type]
        values[item.name] = printed.replace("{label}", f"Sample {item.label}")
    return merge_template(prompt.template or "", values)


def _render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def _apex_class(spec: Spec, name: str, template: str, **context: Any) -> list[PlannedFile]:
    folder = f"{spec.project.package_dir}/{CLASSES_DIR}"
    # In a managed package only global entry points reach subscribers (their Flows, components, Apex).
    access = "global" if spec.project.namespace else "public"
    source = format_apex(_render(template, spec=spec, project=spec.project, p=spec.project.prefix, access=access, **context))
    meta = _render("apex/class.cls-meta.xml.jinja", project=spec.project)
    return [PlannedFile(f"{folder}/{name}.cls", source), PlannedFile(f"{folder}/{name}.cls-meta.xml", meta)]


# layer -> (class template, test template); {kind} is text, embed or feedback
TEMPLATES = {
    "service": ("apex/service/{kind}.cls.jinja", "apex/service/{kind}Test.cls.jinja"),
    "action": ("apex/action/{kind}.cls.jinja", "apex/action/test.cls.jinja"),
    "controller": ("apex/controller/controller.cls.jinja", "apex/controller/test.cls.jinja"),
}
KIND_OF = {"generate": "text", "chat": "text", "embed": "embed", "feedback": "feedback"}


# Apex input type -> Flow data type and scale
FLOW_TYPES: dict[str, tuple[str, int | None]] = {
    "String": ("String", None),
    "Integer": ("Number", 0),
    "Long": ("Number", 0),
    "Decimal": ("Number", 2),
    "Double": ("Number", 2),
    "Boolean": ("Boolean", None),
    "Date": ("Date", None),
    "Datetime": ("DateTime", None),
    "Id": ("String", None),
}
FLOWS_DIR = "main/default/flows"


def _flow_files(spec: Spec, prompt: Prompt) -> list[PlannedFile]:
    """The Flows of ``prompt``: <Name>Flow (autolaunched) and <Name>ScreenFlow, as the spec asks."""
    text = prompt.capability in ("generate", "chat")
    # Result field of the action -> the Flow's internal variable, and that variable's output variable
    answer = ("text", "Call_Answer", "answer", "String", None) if text else ("similarity", "Call_Answer", "answer", "Number", 6)
    results = [answer]
    if text:
        results += [
            ("generationId", "Call_Generation_Id", "generationId", "String", None),
            ("toxicityDetected", "Call_Toxicity_Detected", "toxicityDetected", "Boolean", None),
        ]
    status = [("isSuccess", "Call_Succeeded", "Boolean"), ("errorMessage", "Call_Error", "String")]
    internal = [(var, data_type, False, False, "", scale) for _, var, _, data_type, scale in results]
    internal += [(var, data_type, False, False, "", None) for _, var, data_type in status]
    feedback = spec.prompt_named(prompt.feedback) if prompt.feedback else None
    context = {
        "project": spec.project,
        "prompt": prompt,
        "feedback": feedback,
        "action_inputs": [(item.name, item.name) for item in prompt.call_inputs],
        "action_outputs": [(field, var) for field, var, *_ in results] + [(field, var) for field, var, _ in status],
        "feedback_inputs": [("generationId", "Call_Generation_Id"), ("rating", "Feedback_Rating"), ("comment", "Feedback_Comment")],
        "fault_items": [("Call_Succeeded", "booleanValue", "false"), ("Call_Error", "elementReference", "$Flow.FaultMessage")],
        "input_fields": [(item, *FLOW_TYPES[item.type]) for item in prompt.call_inputs],
    }
    folder = f"{spec.project.package_dir}/{FLOWS_DIR}"
    files = []
    if "autolaunched" in prompt.flows:
        inputs = [(i.name, *FLOW_TYPES[i.type][:1], True, False, i.description, FLOW_TYPES[i.type][1]) for i in prompt.call_inputs]
        outputs = [(out, data_type, False, True, "", scale) for _, _, out, data_type, scale in results]
        outputs += [("succeeded", "Boolean", False, True, "", None), ("errorMessage", "String", False, True, "", None)]
        variables = sorted(inputs + outputs + internal, key=lambda v: v[0].lower())
        context_auto = dict(
            context,
            variables=variables,
            answer_items=[(out, "elementReference", var) for _, var, out, _, _ in results] + [("succeeded", "booleanValue", "true")],
            failure_items=[("succeeded", "booleanValue", "false"), ("errorMessage", "elementReference", "Call_Error")],
            fault_items=[("succeeded", "booleanValue", "false"), ("errorMessage", "elementReference", "$Flow.FaultMessage")],
        )
        files.append(PlannedFile(f"{folder}/{prompt.name}Flow.flow-meta.xml", _render("flow/autolaunched.flow-meta.xml.jinja", **context_auto)))
    if "screen" in prompt.flows:
        variables = sorted(internal, key=lambda v: v[0].lower())
        files.append(PlannedFile(f"{folder}/{prompt.name}ScreenFlow.flow-meta.xml", _render("flow/screen.flow-meta.xml.jinja", **context, variables=variables)))
    return files


def render_plan(spec: Spec) -> list[PlannedFile]:
    """Every file ``generate`` writes for ``spec``, in a stable order."""
    p = spec.project.prefix
    files: list[PlannedFile] = []
    shared = [(f"{p}{name}", f"apex/shared/{name}.cls.jinja") for name in spec.shared_classes()]
    shared += [
        (f"{p}{name}Test", f"apex/shared/{name}Test.cls.jinja")
        for name in spec.shared_classes()
        if name not in UNTESTED_SHARED_CLASSES
    ]
    for name, template in shared:
        files += _apex_class(spec, name, template)
    for prompt in spec.prompts:
        kind = KIND_OF[prompt.capability]
        context = {"prompt": prompt, "expected_prompt": expected_prompt(prompt) if kind == "text" else ""}
        layers = [("service", prompt.service_class)]
        if "flow" in prompt.expose:
            layers.append(("action", prompt.action_class))
        if "lwc" in prompt.expose:
            layers.append(("controller", prompt.controller_class))
        for layer, cls in layers:
            source, test = TEMPLATES[layer]
            files += _apex_class(spec, cls, source.format(kind=kind), **context)
            files += _apex_class(spec, f"{cls}Test", test.format(kind=kind), **context)
        if "lwc" in prompt.expose:
            files += lwc_bundle(spec, prompt)
        files += _flow_files(spec, prompt)
    return files
