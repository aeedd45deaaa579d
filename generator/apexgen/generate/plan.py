"""Stage 3: turn a validated ``Spec`` into a render plan, the list of files with their full content.

Rendering is pure: it reads templates and the spec, touches no project file, and gives the same
bytes for the same spec.
"""

from __future__ import annotations

from pathlib import PurePath

from apexgen.generate.agent import agent_files
from apexgen.generate.apex import KIND_OF, TEMPLATES, apex_class, expected_prompt
from apexgen.generate.automation import automation_metadata
from apexgen.generate.flows import flow_files
from apexgen.generate.index import index_files, retrieval_context
from apexgen.generate.lwc import lwc_bundle
from apexgen.generate.marker import git_attributes, marked
from apexgen.generate.permissions import permission_set
from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.subscriber_models import model_metadata
from apexgen.spec.types import RETRIEVAL_CLASSES, UNTESTED_SHARED_CLASSES, Spec


def render_plan(spec: Spec) -> list[PlannedFile]:
    """Every file ``generate`` writes for ``spec``, in a stable order."""
    p = spec.project.prefix
    files: list[PlannedFile] = []

    def shared_template(name: str) -> str:
        if name in RETRIEVAL_CLASSES:
            return f"apex/retrieval/{name}"
        chosen = "SubscriberModels" if name == "Models" and spec.project.subscriber_models else name
        return f"apex/shared/{chosen}"

    shared = [(f"{p}{name}", f"{shared_template(name)}.cls.jinja") for name in spec.shared_classes()]
    shared += [
        (f"{p}{name}Test", f"{shared_template(name)}Test.cls.jinja")
        for name in spec.shared_classes()
        if name not in UNTESTED_SHARED_CLASSES
    ]
    shared_context = {
        "record_prompts": spec.record_prompts(),
        "works": spec.job_works(),
        "indexes": spec.indexes,
        "log": bool(spec.job_works()),
    }
    for name, template in shared:
        retrieval = retrieval_context() if "/retrieval/" in template else {}
        files += apex_class(spec, name, template, **shared_context, **retrieval)
    files += index_files(spec)
    owners: dict[str, str] = {}  # the prompt each file comes from, for its header
    for prompt in spec.prompts:
        first = len(files)
        kind = KIND_OF[prompt.capability]
        context = {"prompt": prompt, "expected_prompt": expected_prompt(prompt) if kind == "text" else ""}
        layers = [("service", prompt.service_class)]
        if "flow" in prompt.expose:
            layers.append(("action", prompt.action_class))
        if "lwc" in prompt.expose:
            layers.append(("controller", prompt.controller_class))
        if prompt.writes_record:
            layers += [("record_work", prompt.record_work_class), ("record_batch", prompt.record_batch_class)]
        for layer, cls in layers:
            source, test = TEMPLATES[layer]
            files += apex_class(spec, cls, source.format(kind=kind), **context)
            files += apex_class(spec, f"{cls}Test", test.format(kind=kind), **context)
        if prompt.has_component:
            files += lwc_bundle(spec, prompt)
        files += flow_files(spec, prompt)
        owners.update((file.path, prompt.name) for file in files[first:])
    spec_name = PurePath(spec.path).name
    files += agent_files(spec, files) + model_metadata(spec) + automation_metadata(spec)
    files += permission_set(spec, files)
    files = [marked(file, spec_name, owners.get(file.path)) for file in files]
    generated = [file.path for file in files if not file.once]
    return [*files, git_attributes(spec.project.package_dir, generated, spec_name)]
