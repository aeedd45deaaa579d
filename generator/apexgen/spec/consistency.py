"""Rules that hold across the prompts of a spec, checked once each prompt is valid on its own."""

from __future__ import annotations

from apexgen.errors import SpecError
from apexgen.spec.naming import MAX_CLASS_NAME
from apexgen.spec.types import SHARED_CLASSES, UNTESTED_SHARED_CLASSES, Index, ProjectSettings, Prompt


def check_feedback_references(prompts: tuple[Prompt, ...], name: str) -> None:
    """A prompt's ``feedback`` names a feedback prompt exposed wherever this prompt's UI needs it."""
    by_name = {p.name: p for p in prompts}
    for index, prompt in enumerate(prompts):
        if prompt.feedback is None:
            continue
        at = f"prompt[{index}].feedback"
        target = by_name.get(prompt.feedback)
        if target is None or target.capability != "feedback":
            known = ", ".join(p.name for p in prompts if p.capability == "feedback") or "none"
            raise SpecError(
                name, at, f"'{prompt.feedback}' is not a feedback prompt of this spec (feedback prompts: {known})"
            )
        if "lwc" in prompt.expose and "lwc" not in target.expose:
            raise SpecError(
                name, at, f"'{target.name}' must be exposed to lwc too: this prompt's component sends its ratings there"
            )
        if "screen" in prompt.flows and "flow" not in target.expose:
            raise SpecError(
                name,
                at,
                f"'{target.name}' must be exposed to flow too: this prompt's screen flow sends its ratings there",
            )


def check_collisions(project: ProjectSettings, prompts: tuple[Prompt, ...], name: str) -> None:
    """Every class name fits Apex's limit and belongs to one owner: a shared class or one prompt."""
    shared = [f"{project.prefix}{name}{suffix}" for name in SHARED_CLASSES for suffix in ("", "Test")]
    longest = max(
        (
            f"{project.prefix}{name}{suffix}"
            for name in SHARED_CLASSES
            for suffix in ("", "Test")
            if not (suffix and name in UNTESTED_SHARED_CLASSES)
        ),
        key=len,
    )
    if len(longest) > MAX_CLASS_NAME:
        raise SpecError(
            name,
            "project.prefix",
            f"makes class name '{longest}' of {len(longest)} characters; Apex allows at most {MAX_CLASS_NAME}",
        )
    owners: dict[str, str] = {c.lower(): f"the shared class {c}" for c in shared}
    for index, prompt in enumerate(prompts):
        at = f"prompt[{index}].name"
        for cls in prompt.classes():
            if len(cls) > MAX_CLASS_NAME:
                raise SpecError(
                    name, at, f"makes class name '{cls}' of {len(cls)} characters; Apex allows at most {MAX_CLASS_NAME}"
                )
            owner = owners.get(cls.lower())
            if owner:
                raise SpecError(name, at, f"'{prompt.name}' would write class {cls}, which {owner} writes too")
            owners[cls.lower()] = f"prompt '{prompt.name}' ({at})"


def check_names_of_classes(
    project: ProjectSettings, prompts: tuple[Prompt, ...], indexes: tuple[Index, ...], name: str
) -> None:
    """No input or output takes the name of a class the spec generates: the methods that take the inputs
    (and the Result class the outputs join) refer to those classes, and a variable would shadow one."""
    classes = {f"{project.prefix}{shared}".lower(): f"{project.prefix}{shared}" for shared in SHARED_CLASSES}
    owners: list[Prompt | Index] = [*prompts, *indexes]
    classes |= {cls.lower(): cls for owner in owners for cls in owner.classes()}
    for index, prompt in enumerate(prompts):
        named = {"inputs": [item.name for item in prompt.inputs], "outputs": [item.name for item in prompt.outputs]}
        for kind, names in named.items():
            for position, spec_name in enumerate(names):
                cls = classes.get(spec_name.lower())
                if cls:
                    raise SpecError(
                        name,
                        f"prompt[{index}].{kind}[{position}].name",
                        f"'{spec_name}' is the name of the class {cls} that this spec generates; choose another",
                    )
