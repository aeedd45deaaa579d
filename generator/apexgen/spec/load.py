"""Stage 1: read ``apexgen.toml`` and turn it into a validated ``Spec``, or raise ``SpecError``.

Structure (keys, types, enums) is checked against ``spec.schema.json``; what a schema cannot say
(Apex identifiers, references between keys, names that would collide in Apex) is checked here.
The first problem found is reported; nothing is generated from a spec with a problem.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import stat
import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from apexgen.errors import SpecError, one_line
from apexgen.project.containment import is_inside
from apexgen.project.sfdx_project import SfdxProject
from apexgen.salesforce import API_VERSION, MIN_API_VERSION, SFDX_PROJECT_FILE
from apexgen.spec.agent import check_agent_keys, expose_of, read_topics
from apexgen.spec.capabilities import KEYS_NOT_FOR
from apexgen.spec.consistency import check_collisions, check_feedback_references, check_names_of_classes
from apexgen.spec.index import check_index_names, read_ground, read_indexes, searched_index
from apexgen.spec.lwc import read_lwc
from apexgen.spec.naming import namespace_problem, require_identifier, text_problem, words
from apexgen.spec.outputs import read_outputs
from apexgen.spec.record import check_record_fields, check_record_surfaces, read_record
from apexgen.spec.reserved import input_problem, model_constant_problem, prompt_problem
from apexgen.spec.standard_models import REROUTED_MODELS, STANDARD_MODELS
from apexgen.spec.types import (
    CONTEXT_PLACEHOLDER,
    DEFAULT_MAX_LENGTH,
    Index,
    Input,
    Localization,
    ModelRef,
    ProjectSettings,
    Prompt,
    Spec,
    call_inputs,
    template_fields,
    template_problem,
)

DEFAULT_EXPOSE = ("flow", "lwc")


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of ``apexgen.toml`` shipped in the package."""
    document: dict[str, Any] = json.loads(resources.files("apexgen.spec").joinpath("schema.json").read_text("utf-8"))
    return document


# A spec is a few kilobytes: a larger file is a mistake (or /dev/zero), not a spec to parse.
MAX_SPEC_BYTES = 1_000_000


def spec_root(path: str | Path) -> Path:
    """The project folder: the folder that holds the spec as named (a symlinked spec does not move it)."""
    return Path(os.path.abspath(path)).parent


def load_spec(path: str | Path) -> Spec:
    """Read and validate the spec at ``path``: a regular file inside its project folder."""
    path = Path(path)
    name = str(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise SpecError(name, "", "file not found (create one with 'apexgen init')") from None
    except OSError as exc:
        raise SpecError(name, "", f"cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(status.st_mode):
        raise SpecError(name, "", "is not a regular file (a FIFO, device or folder cannot be a spec)")
    if not is_inside(spec_root(path), path):
        raise SpecError(
            name,
            "",
            f"is a symlink to {path.resolve()}, outside the project folder {spec_root(path)}; "
            "apexgen writes next to the spec, so the spec must lie in the project",
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError(name, "", f"cannot be read: {exc.strerror}") from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(name, "", f"is larger than {MAX_SPEC_BYTES // 1_000_000} MB; a spec is a few kilobytes")
    try:
        text = data.decode("utf-8-sig")  # an editor's byte order mark is not part of the TOML
    except UnicodeDecodeError as exc:
        raise SpecError(name, "", f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_spec(text, name)


def parse_spec(text: str, name: str = "apexgen.toml") -> Spec:
    """Validate spec ``text`` (named ``name`` in messages, with the line and column of the key at fault)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, column = (int(at.group(1)), int(at.group(2))) if at else (0, 0)
        raise SpecError(name, "", f"is not valid TOML: {exc}", line, column) from None
    except RecursionError:
        raise SpecError(name, "", "is nested too deeply (arrays or tables inside each other)") from None
    try:
        _check_finite(data, [], name)
        _check_schema(data, name)
        return _build(data, name)
    except RecursionError:
        raise SpecError(name, "", "is nested too deeply (arrays or tables inside each other)") from None
    except SpecError as exc:
        if exc.file != name or exc.line:
            raise
        raise _located(exc, text, data) from None


def _located(error: SpecError, text: str, data: dict[str, Any]) -> SpecError:
    """``error`` at the line and column of its key, naming the prompt it is in by its name."""
    from apexgen.spec.positions import key_positions, parse_key, position_of

    path = parse_key(error.key)
    line, column = position_of(key_positions(text), path) or (0, 0)
    rule = error.rule
    if len(path) > 2 and path[0] == "prompt" and isinstance(path[1], int) and path[2] != "name":
        prompts = data.get("prompt")
        prompt = prompts[path[1]] if isinstance(prompts, list) and path[1] < len(prompts) else None
        if isinstance(prompt, dict) and isinstance(prompt.get("name"), str):
            rule = f"{rule} (prompt '{one_line(prompt['name'])}')"
    return SpecError(error.file, error.key, rule, line, column)


def _check_finite(value: Any, path: list[Any], name: str) -> None:
    """TOML has nan and inf; no key of a spec means them, and generated code cannot hold them."""
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(name, _key(path), f"must be a finite number, not {value}")
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        _check_finite(item, [*path, key], name)


def check_project_file(spec: Spec, root: Path) -> Spec:
    """The spec agrees with the project's sfdx-project.json: it exists, the namespaces match, and package_dir is
    one of its package directories (so generate never writes into, or empties, a folder sf does not deploy).
    Returns the spec with what the project's metadata says of the fields its records name (``check_record_fields``).
    """
    project_file = root / SFDX_PROJECT_FILE
    if not project_file.exists():
        raise SpecError(
            str(project_file),
            "",
            "not found: apexgen.toml belongs at the root of an SFDX project (create one with 'apexgen init')",
        )
    project = SfdxProject.load(root)
    if any(p.record for p in spec.prompts):
        # package directories that do not exist yet (before the first generate) hold no metadata
        entries = [entry.get("path") for entry in project.directories()]
        spec = check_record_fields(spec, [root / path for path in entries if isinstance(path, str)])
    namespace = project.namespace
    if namespace != spec.project.namespace:
        raise SpecError(
            spec.path,
            "project.namespace",
            f"is '{spec.project.namespace}' but sfdx-project.json has namespace '{namespace}'; they must agree",
        )
    wanted = os.path.normpath(spec.project.package_dir)
    listed = [os.path.normpath(path) for path in project.directory_paths()]
    hidden = any(part.startswith(".") for part in Path(wanted).parts)
    if wanted not in listed or wanted == "." or hidden:
        raise SpecError(
            spec.path,
            "project.package_dir",
            f"'{spec.project.package_dir}' must be one of the package directories of sfdx-project.json "
            f"({', '.join(path for path in listed if not path.startswith('.')) or 'none'}), "
            "not the project folder itself nor a hidden folder",
        )
    return spec


def _key(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _check_schema(data: dict[str, Any], name: str) -> None:
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(schema()).iter_errors(data), key=lambda e: list(map(str, e.path)))
    if not errors:
        return
    error = errors[0]
    if error.validator == "oneOf" and list(error.absolute_path)[:1] == ["models"] and isinstance(error.instance, dict):
        # a table: the error of the table branch names the key inside it
        error = min(
            (e for e in error.context or () if e.relative_schema_path[0] == 1), key=lambda e: list(map(str, e.path))
        )
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))[0]
        hint = _did_you_mean(extra, allowed)
        raise SpecError(name, _key(path + [extra]), f"unknown key (allowed here: {', '.join(allowed)}){hint}")
    if error.validator == "required":
        missing = error.message.split("'")[1]
        raise SpecError(name, _key(path + [missing]), "is required")
    if error.validator == "oneOf" and path[:1] == ["models"]:
        raise SpecError(
            name,
            _key(path),
            'must be a model API name or a table { configured = "API_Name", capabilities = [...] }',
        )
    rules: dict[str, Callable[[], str]] = {
        "type": lambda: f"must be of type {error.validator_value}",
        "enum": lambda: (
            "must be one of: "
            + ", ".join(map(str, error.validator_value))
            + _did_you_mean(error.instance, error.validator_value)
        ),
        "minLength": lambda: "must not be empty",
        "minItems": lambda: f"must have at least {error.validator_value} item(s)",
        "minProperties": lambda: f"must have at least {error.validator_value} key(s)",
        "uniqueItems": lambda: "must not repeat an item",
        "minimum": lambda: f"must be at least {error.validator_value}",
        "maximum": lambda: f"must be at most {error.validator_value}",
        "pattern": lambda: (
            f"'{error.instance}' does not match {_PATTERN_HELP.get(error.validator_value, error.validator_value)}"
        ),
    }
    rule = rules.get(str(error.validator), lambda: str(error.message))()
    raise SpecError(name, _key(path), rule)


def _did_you_mean(word: Any, choices: list[Any]) -> str:
    """The hint "; did you mean 'chat'?" for a misspelt key or choice (a string), or nothing."""
    names = [str(choice) for choice in choices] if isinstance(word, str) else []
    closest = difflib.get_close_matches(word, names, n=1) or [n for n in names if n.lower() == word.lower()]
    return f"; did you mean '{closest[0]}'?" if closest else ""


_PATTERN_HELP = {
    "^[1-9][0-9]\\.0$": "an API version such as '65.0'",
    "^[a-z]{2,3}(_[A-Z]{2})?$": "a Salesforce locale such as 'en_US'",
}


def _build(data: dict[str, Any], name: str) -> Spec:
    project = _project(data.get("project", {}), name)
    models = _models(data.get("models", {}), name)
    if project.subscriber_models:
        for model in models:
            if len(model.alias) > 40:  # the alias names its custom metadata record (DeveloperName)
                raise SpecError(name, f"models.{model.alias}", "must be at most 40 characters with subscriber_models")
    by_alias = {m.alias.lower(): m for m in models}
    indexes = read_indexes(data.get("index", []), by_alias, project.prefix, name)
    prompts = tuple(_prompt(raw, i, project, by_alias, indexes, name) for i, raw in enumerate(data["prompt"]))
    check_collisions(project, prompts, name)
    check_index_names(indexes, prompts, name)
    check_names_of_classes(project, prompts, indexes, name)
    check_feedback_references(prompts, name)
    return Spec(
        path=name,
        project=project,
        models=models,
        prompts=prompts,
        indexes=indexes,
        topics=read_topics(data.get("topic", []), prompts, name),
    )


def _printable(raw: dict[str, Any], keys: tuple[str, ...], file: str, at: str) -> None:
    """Labels, descriptions and categories end up in Flow Builder: no control characters."""
    for key in keys:
        problem = text_problem(raw.get(key, ""))
        if problem:
            raise SpecError(file, f"{at}.{key}", problem)


def _project(raw: dict[str, Any], name: str) -> ProjectSettings:
    api_version = raw.get("api_version", API_VERSION)
    if int(api_version.split(".")[0]) < MIN_API_VERSION:
        raise SpecError(
            name, "project.api_version", f"must be {MIN_API_VERSION}.0 or later (the aiplatform namespace needs it)"
        )
    prefix = raw.get("prefix", "Ai")
    require_identifier(prefix, name, "project.prefix")
    namespace = raw.get("namespace", "")
    problem = namespace_problem(namespace) if namespace else None
    if problem:
        raise SpecError(name, "project.namespace", problem)
    _printable(raw, ("category",), name, "project")
    package_dir = raw.get("package_dir", "force-app")
    if Path(package_dir).is_absolute() or ".." in Path(package_dir).parts:
        raise SpecError(name, "project.package_dir", "must be a relative path inside the project")
    return ProjectSettings(
        api_version=api_version,
        prefix=prefix,
        namespace=namespace,
        package_dir=package_dir,
        category=raw.get("category", "Models API"),
        # On by default in a managed package: a model fixed in the package cannot be changed by a subscriber
        # whose org turns its provider off, short of a new version.
        subscriber_models=raw.get("subscriber_models", bool(namespace)),
        lwc_targets=tuple(raw["lwc_targets"]) if "lwc_targets" in raw else None,
    )


def _models(raw: dict[str, Any], name: str) -> tuple[ModelRef, ...]:
    models = []
    constants: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for alias, value in raw.items():
        key = f"models.{alias}"
        require_identifier(alias, name, key)
        if alias.lower() in aliases:
            raise SpecError(
                name,
                key,
                f"repeats models.{aliases[alias.lower()]} ignoring case; prompts name models ignoring case, so each "
                "alias must differ in more than case",
            )
        aliases[alias.lower()] = alias
        if isinstance(value, str):
            if value in REROUTED_MODELS:
                raise SpecError(
                    name,
                    key,
                    f"'{value}' is retired and rerouted by Salesforce; name '{REROUTED_MODELS[value]}' instead",
                )
            if value not in STANDARD_MODELS:
                raise SpecError(
                    name,
                    key,
                    f"'{value}' is not a known standard model (see 'apexgen models list'); for a newer, BYOLLM or "
                    f'Einstein Studio configured model write {{ configured = "{value}", capabilities = ["chat"] }}',
                )
            ref = ModelRef(alias, value, STANDARD_MODELS[value].capabilities, configured=False)
        else:
            api_name = value["configured"]
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", api_name):
                raise SpecError(
                    name, f"{key}.configured", f"'{api_name}' is not a model API name (letters, digits, underscores)"
                )
            ref = ModelRef(alias, api_name, tuple(value["capabilities"]), configured=True)
        problem = model_constant_problem(ref.constant)
        if problem:
            raise SpecError(name, key, problem)
        if ref.constant.lower() in constants:
            raise SpecError(
                name, key, f"becomes the same Apex constant {ref.constant} as models.{constants[ref.constant.lower()]}"
            )
        constants[ref.constant.lower()] = alias
        models.append(ref)
    return tuple(models)


def _prompt(
    raw: dict[str, Any],
    index: int,
    project: ProjectSettings,
    models: dict[str, ModelRef],
    indexes: tuple[Index, ...],
    name: str,
) -> Prompt:
    at = f"prompt[{index}]"
    prompt_name = raw["name"]
    require_identifier(prompt_name, name, f"{at}.name")
    capability = raw["capability"]
    problem = prompt_problem(prompt_name, "lwc" in raw.get("expose", DEFAULT_EXPOSE) and capability != "search")
    if problem:
        raise SpecError(name, f"{at}.name", problem)
    _printable(raw, ("label", "description", "category"), name, at)
    for key in KEYS_NOT_FOR[capability]:
        if key in raw:
            raise SpecError(name, f"{at}.{key}", f"is not used by capability '{capability}'")

    searched = searched_index(raw, capability, indexes, name, at)
    model = searched.model if searched else None
    if capability not in ("feedback", "search"):
        if "model" not in raw:
            raise SpecError(name, f"{at}.model", f"is required for capability '{capability}' (an alias from [models])")
        model = models.get(raw["model"].lower())
        if model is None:
            known = ", ".join(sorted(m.alias for m in models.values())) or "none defined"
            raise SpecError(name, f"{at}.model", f"unknown model alias '{raw['model']}' (aliases in [models]: {known})")
        if capability not in model.capabilities:
            raise SpecError(
                name,
                f"{at}.model",
                f"model '{model.alias}' ({model.api_name}) cannot {capability}; it supports: {', '.join(model.capabilities)}",
            )

    template = raw.get("template")
    if capability in ("generate", "chat") and template is None:
        raise SpecError(name, f"{at}.template", f"is required for capability '{capability}'")
    inputs = tuple(_input(item, f"{at}.inputs[{i}]", name) for i, item in enumerate(raw.get("inputs", [])))
    seen: dict[str, int] = {}
    for i, item in enumerate(inputs):
        if item.name.lower() in seen:
            raise SpecError(
                name,
                f"{at}.inputs[{i}].name",
                f"'{item.name}' repeats inputs[{seen[item.name.lower()]}] (Apex names ignore case)",
            )
        seen[item.name.lower()] = i
        problem = input_problem(item.name, grounded="ground" in raw, record="record" in raw)
        if problem:
            raise SpecError(name, f"{at}.inputs[{i}].name", problem)
    if template is not None:
        problem = template_problem(template)
        if problem:
            raise SpecError(name, f"{at}.template", problem)
        used = template_fields(template)
        for field in used:  # {context} of a grounded prompt is filled by its index
            if field not in {i.name for i in inputs} | ({CONTEXT_PLACEHOLDER} if "ground" in raw else set()):
                raise SpecError(
                    name,
                    f"{at}.template",
                    f"placeholder {{{field}}} is not an input of this prompt (inputs: {', '.join(i.name for i in inputs) or 'none'})",
                )
        for i, item in enumerate(inputs):
            if item.name not in used:
                raise SpecError(
                    name, f"{at}.inputs[{i}]", f"input '{item.name}' is not used by the template (add {{{item.name}}})"
                )

    ground = read_ground(raw["ground"], template, inputs, indexes, name, at) if "ground" in raw else None
    expose = expose_of(raw, DEFAULT_EXPOSE)
    flows = tuple(raw.get("flows", ()))
    if flows and "flow" not in expose:
        raise SpecError(name, f"{at}.flows", 'needs the prompt exposed to flow (add "flow" to expose)')
    if "screen" in flows and capability not in ("generate", "chat"):
        raise SpecError(
            name, f"{at}.flows", "a screen flow shows generated text: only generate and chat prompts have one"
        )
    if "flow" in expose and capability in ("generate", "chat") and not inputs:
        raise SpecError(
            name,
            f"{at}.expose",
            "a prompt exposed to flow needs at least one input (a Flow action takes its inputs as variables)",
        )
    outputs = read_outputs(raw.get("outputs", []), inputs, capability == "chat", name, f"{at}.outputs")
    record = read_record(raw.get("record"), capability, expose, inputs, outputs, name, f"{at}.record")
    lwc_targets, lwc_public = (
        ((), ())  # a search prompt gets its controller only (Prompt.has_component)
        if capability == "search"
        else read_lwc(raw, expose, call_inputs(capability, inputs), record, project.lwc_targets, name, at)
    )
    check_record_surfaces(record, lwc_targets, flows, name, f"{at}.record")
    label = raw.get("label", words(prompt_name))
    check_agent_keys(raw, expose, label, name, at)
    loc = raw.get("localization")
    return Prompt(
        name=prompt_name,
        capability=capability,
        model=model,
        system=raw.get("system"),
        template=template,
        inputs=inputs,
        expose=expose,
        label=label,
        description=raw.get("description", label),
        category=raw.get("category", project.category),
        localization=Localization(
            default_locale=loc["default_locale"],
            input_locales=tuple((x["locale"], float(x["probability"])) for x in loc.get("input_locales", [])),
            expected_locales=tuple(loc.get("expected_locales", [])),
        )
        if loc
        else None,
        tags=tuple(sorted(raw.get("tags", {}).items())),
        similarity=raw.get("similarity", "cosine"),
        source=raw.get("source", "human"),
        feedback=raw.get("feedback"),
        flows=flows,
        outputs=outputs,
        record=record,
        lwc_targets=lwc_targets,
        lwc_public=lwc_public,
        index=searched,
        k=raw.get("k", 5),
        ground=ground,
        confirm=raw.get("confirm", False),
    )


def _input(raw: dict[str, Any], at: str, name: str) -> Input:
    input_name = raw["name"]
    require_identifier(input_name, name, f"{at}.name")
    _printable(raw, ("label", "description"), name, at)
    label = raw.get("label", words(input_name))
    for key in ("multiline", "max_length"):
        if key in raw and raw.get("type", "String") != "String":
            raise SpecError(name, f"{at}.{key}", f"is only for String inputs (this one is {raw['type']})")
    return Input(
        name=input_name,
        type=raw.get("type", "String"),
        label=label,
        description=raw.get("description", label),
        required=raw.get("required", False),
        multiline=raw.get("multiline", False),
        max_length=raw.get("max_length", DEFAULT_MAX_LENGTH) if raw.get("type", "String") == "String" else 0,
        pii=raw.get("pii", False),
    )
