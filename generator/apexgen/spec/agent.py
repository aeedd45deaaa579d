"""Prompts exposed to agent, and ``[[topic]]`` tables: what an Agentforce agent's planner reads.

The planner picks an action, and fills its inputs, from the descriptions alone (the action's description is
its instruction), so a prompt exposed to agent must describe itself, each input and each output in words of
their own: a description left out (which falls back to the label) or equal to the label tells it nothing.
"""

from __future__ import annotations

from typing import Any

from apexgen.errors import SpecError
from apexgen.spec.naming import require_identifier, text_problem, words
from apexgen.spec.types import Prompt, Topic

AGENT = "agent"
# Keys only an agent action reads: naming one on a prompt not exposed to agent is a mistake.
AGENT_ONLY_PROMPT_KEYS = ("confirm",)


def expose_of(raw: dict[str, Any], default: tuple[str, ...]) -> tuple[str, ...]:
    """The prompt's ``expose``, with ``flow`` added when it names ``agent`` (the agent calls the Flow action)."""
    expose = tuple(raw.get("expose", default))
    if AGENT in expose and "flow" not in expose:
        expose = ("flow", *expose)
    return expose


def _says_more_than(raw: dict[str, Any], label: str) -> bool:
    description = str(raw.get("description", "")).strip()
    return bool(description) and description.casefold() != label.strip().casefold()


def check_agent_keys(raw: dict[str, Any], expose: tuple[str, ...], label: str, file: str, at: str) -> None:
    """A prompt exposed to agent describes itself, its inputs and outputs; agent-only keys need agent."""
    if AGENT not in expose:
        for key in AGENT_ONLY_PROMPT_KEYS:
            if key in raw:
                raise SpecError(
                    file, f"{at}.{key}", 'is only read for a prompt exposed to agent (add "agent" to expose)'
                )
        for index, item in enumerate(raw.get("inputs", [])):
            if "pii" in item:
                raise SpecError(
                    file,
                    f"{at}.inputs[{index}].pii",
                    'is only read for a prompt exposed to agent (add "agent" to expose)',
                )
        return
    rule = "needs a description of its own (not empty, not just the label): the agent's planner reads it"
    if not _says_more_than(raw, label):
        raise SpecError(file, f"{at}.description", f"a prompt exposed to agent {rule} as the action's instruction")
    for key, what, use in (("inputs", "an input", "to fill the input"), ("outputs", "an output", "to read the result")):
        for index, item in enumerate(raw.get(key, [])):
            if not _says_more_than(item, item.get("label", words(item["name"]))):
                message = f"{what} of a prompt exposed to agent {rule} {use}"
                raise SpecError(file, f"{at}.{key}[{index}].description", message)


def read_topics(raw: list[dict[str, Any]], prompts: tuple[Prompt, ...], file: str) -> tuple[Topic, ...]:
    """Validate the ``topic`` array: names unique, each prompt named is exposed to agent."""
    agent_prompts = {p.name: p for p in prompts if AGENT in p.expose}
    topics: list[Topic] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        at = f"topic[{index}]"
        name = item["name"]
        require_identifier(name, file, f"{at}.name")
        if name.lower() in seen:
            raise SpecError(file, f"{at}.name", f"'{name}' repeats topic[{seen[name.lower()]}] (names ignore case)")
        seen[name.lower()] = index
        texts = [("label", item.get("label", "")), ("description", item["description"]), ("scope", item["scope"])]
        texts += [(f"instructions[{i}]", text) for i, text in enumerate(item.get("instructions", []))]
        for key, text in texts:
            problem = text_problem(text)
            if problem:
                raise SpecError(file, f"{at}.{key}", problem)
        for position, prompt_name in enumerate(item["prompts"]):
            if prompt_name not in agent_prompts:
                known = ", ".join(agent_prompts) or "none"
                raise SpecError(
                    file,
                    f"{at}.prompts[{position}]",
                    f"'{prompt_name}' is not a prompt exposed to agent (prompts exposed to agent: {known})",
                )
        topics.append(
            Topic(
                name=name,
                label=item.get("label", words(name)),
                description=item["description"],
                scope=item["scope"],
                instructions=tuple(item.get("instructions", ())),
                prompts=tuple(item["prompts"]),
            )
        )
    return tuple(topics)
