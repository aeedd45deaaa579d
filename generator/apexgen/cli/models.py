"""apexgen models: the Models REST API from the terminal."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from apexgen.cli.options import json_option, models_connection, spec_option, spec_path_of
from apexgen.errors import UsageError, printable


@click.group()
def models() -> None:
    """Call the Models REST API: try models and spec prompts before generating Apex.

    \b
    Authentication: OAuth client credentials of an External Client App (scopes api, sfap_api;
    Client Credentials Flow; JWT-based access tokens) against the org's My Domain.
    Consumer key: --client-id or SF_CLIENT_ID. Consumer secret: --client-secret-file or
    SF_CLIENT_SECRET, never a flag. Either is asked for on a terminal when unset (the secret hidden).
    """


def _ask(label: str, where: str, hide: bool) -> str:
    if not sys.stdin.isatty():
        raise UsageError(f"give the External Client App's {label} with {where} (asked for only on a terminal)")
    return str(click.prompt(label[:1].upper() + label[1:], hide_input=hide, err=True))


def _models_client(
    project_dir: str | None,
    target_org: str | None,
    instance_url: str | None,
    client_id: str | None,
    client_secret_file: Path | None,
    api_url: str | None,
    http_timeout: float | None,
) -> Any:
    from apexgen.cli.options import project_root
    from apexgen.models_api.client import (
        DEFAULT_API_URL,
        DEFAULT_TIMEOUT,
        Credentials,
        ModelsClient,
    )
    from apexgen.org.connect import LoginOptions, org_instance_url

    # The Models API takes only a JWT-based token of an External Client App (client credentials with the
    # sfap_api scope): the sf CLI's session token is refused (404), so its org gives only the My Domain URL.
    login = LoginOptions(target_org=target_org, instance_url=instance_url, project_root=project_root(project_dir))
    instance_url = org_instance_url(login)
    if not instance_url:
        raise UsageError(
            "give the org's My Domain URL with --instance-url or SF_INSTANCE_URL (Setup > My Domain), or an org "
            "of the sf CLI with --target-org (-o) or SF_TARGET_ORG"
        )
    client_id = client_id or _ask("consumer key", "--client-id or SF_CLIENT_ID", hide=False)
    if client_secret_file is not None:
        try:
            client_secret = client_secret_file.read_text("utf-8").strip()
        except OSError as exc:
            raise UsageError(f"--client-secret-file: cannot read {client_secret_file} ({exc.strerror})") from None
    else:
        client_secret = os.environ.get("SF_CLIENT_SECRET") or _ask(
            "consumer secret", "SF_CLIENT_SECRET or --client-secret-file", hide=True
        )
    credentials = Credentials(instance_url, client_id, client_secret)
    return ModelsClient(credentials, api_url or DEFAULT_API_URL, http_timeout or DEFAULT_TIMEOUT)


def _read_text(text: str | None, file: Any, what: str) -> str:
    """``text``, else the content of ``file``, else stdin; a trailing newline is not part of the text."""
    if text is not None and file is not None:
        raise UsageError(f"give the {what} as an argument or with --file, not both")
    if text is not None:
        return text
    stream = file if file is not None else sys.stdin
    if file is None and stream.isatty():
        raise UsageError(f"give the {what} as an argument, with --file, or on stdin")
    return read_stream(stream, what).rstrip("\n")


def read_stream(stream: Any, what: str) -> str:
    """All of a text file or stdin that click opened; one line naming it when it is not UTF-8."""
    try:
        return str(stream.read())
    except UnicodeDecodeError as exc:
        name = getattr(stream, "name", None)
        raise UsageError(
            f"{name if isinstance(name, str) else 'stdin'}: the {what} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None


def _check_capability(model: str, capability: str) -> None:
    """Stop a call a standard model cannot answer; names not in the table (configured models) go through."""
    from apexgen.spec.standard_models import STANDARD_MODELS

    known = STANDARD_MODELS.get(model)
    if known is not None and capability not in known.capabilities:
        raise UsageError(
            f"{model} cannot {capability}; it supports: {', '.join(known.capabilities)} (see 'apexgen models list')"
        )


def _echo_json(document: Any) -> None:
    from apexgen.cli.output import echo_result

    echo_result(document)


def _echo_generation(response: dict[str, Any], as_json: bool) -> None:
    """The text on stdout; generation id, token usage and toxicity on stderr, so stdout pipes cleanly."""
    from apexgen.models_api.client import read_generation

    if as_json:
        _echo_json(response)
        return
    generation = read_generation(response)
    click.echo(printable(generation.text))  # a model's answer may hold terminal escape sequences
    if generation.generation_id:
        click.echo(f"generation id: {printable(generation.generation_id)}", err=True)
    usage = generation.usage
    if usage and {"prompt_tokens", "completion_tokens", "total_tokens"} <= usage.keys():
        click.echo(
            f"tokens: {usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion = {usage['total_tokens']}",
            err=True,
        )
    if generation.finish_reason:
        click.echo(f"finish reason: {printable(generation.finish_reason)}", err=True)
    if generation.toxicity_detected:
        highest = generation.highest_toxicity
        detail = f": highest category {highest[0]} ({highest[1]:.2f})" if highest else ""
        click.echo(f"toxicity detected{detail}", err=True)


model_option = click.option(
    "--model", "-m", metavar="API_NAME", required=True, help="Model API name, e.g. sfdc_ai__DefaultGPT4OmniMini."
)


@models.command("list")
@click.option(
    "--capability",
    type=click.Choice(["generate", "chat", "embed"], case_sensitive=False),
    help="Only models that can do this.",
)
@json_option("the table")
def models_list(capability: str | None, as_json: bool) -> None:
    """List the standard model API names and their capabilities.

    The same table validates the models of apexgen.toml. Einstein Studio configured models and
    BYOLLM models are not listed: call them by their own API name."""
    from apexgen.spec.standard_models import STANDARD_MODELS

    rows = [m for m in STANDARD_MODELS.values() if capability is None or capability in m.capabilities]
    if as_json:
        _echo_json([{"api_name": m.api_name, "capabilities": list(m.capabilities), "label": m.label} for m in rows])
        return
    table = [("API NAME", "CAPABILITIES", "LABEL")] + [(m.api_name, ", ".join(m.capabilities), m.label) for m in rows]
    widths = [max(len(row[i]) for row in table) for i in range(2)]
    for name, capabilities, label in table:
        click.echo(f"{name:<{widths[0]}}  {capabilities:<{widths[1]}}  {label}")


@models.command("generate")
@click.argument("prompt", required=False)
@click.option("--file", "-f", type=click.File(encoding="utf-8"), help="Read the prompt from this file ('-' for stdin).")
@model_option
@models_connection
def models_generate(prompt: str | None, file: Any, model: str, as_json: bool, **connection: Any) -> None:
    """Generate text from a prompt.

    PROMPT is the argument, else the --file, else stdin (a trailing newline is dropped).
    Sends POST /models/{model}/generations."""
    from apexgen.models_api.client import generate_request

    _check_capability(model, "generate")
    request = generate_request(model, _read_text(prompt, file, "prompt"))
    _echo_generation(_models_client(**connection).send(request), as_json)


@models.command("chat")
@click.argument("message", required=False)
@click.option(
    "--file", "-f", type=click.File(encoding="utf-8"), help="Read the user message from this file ('-' for stdin)."
)
@click.option("--system", "-s", help="System message, sent first.")
@click.option(
    "--conversation",
    "-c",
    type=click.File(encoding="utf-8"),
    help='Earlier messages: a JSON list of {"role": "system|user|assistant", "content": "..."}.',
)
@model_option
@models_connection
def models_chat(
    message: str | None, file: Any, system: str | None, conversation: Any, model: str, as_json: bool, **connection: Any
) -> None:
    """Chat with a model: a system message, earlier messages, a new message.

    The messages go in this order: --system, the --conversation file, then MESSAGE (the argument,
    else --file, else stdin). With --conversation alone, no new message is added.
    Sends POST /models/{model}/chat-generations."""
    from apexgen.models_api.client import chat_request, read_conversation

    _check_capability(model, "chat")
    history = (
        read_conversation(read_stream(conversation, "conversation"), conversation.name)
        if conversation is not None
        else []
    )
    if system is not None and any(m["role"] == "system" for m in history):
        raise UsageError("the conversation already has a system message; drop --system or edit the file")
    messages = ([{"role": "system", "content": system}] if system is not None else []) + history
    if message is not None or file is not None or not history:
        messages.append({"role": "user", "content": _read_text(message, file, "message")})
    _echo_generation(_models_client(**connection).send(chat_request(model, messages)), as_json)


@models.command("embed")
@click.argument("texts", nargs=-1)
@click.option(
    "--file",
    "-f",
    "files",
    multiple=True,
    type=click.File(encoding="utf-8"),
    help="A file whose text is one input (repeatable).",
)
@model_option
@models_connection
def models_embed(texts: tuple[str, ...], files: tuple[Any, ...], model: str, as_json: bool, **connection: Any) -> None:
    """Embed texts and compare them pairwise.

    The inputs are each TEXT and each --file; without either, each non-empty line of stdin.
    Every pair is compared by cosine similarity, dot product and Euclidean distance.
    Sends POST /models/{model}/embeddings."""
    from apexgen.models_api.client import SIMILARITY, embed_request, read_embeddings

    _check_capability(model, "embed")
    inputs = list(texts) + [read_stream(f, "text").rstrip("\n") for f in files]
    if not inputs:
        stdin = sys.stdin
        if stdin.isatty():
            raise UsageError("give the texts to embed as arguments, with --file, or one per line on stdin")
        inputs = [line for line in read_stream(stdin, "text").splitlines() if line.strip()]
    if not inputs:
        raise UsageError("nothing to embed: every input is empty")
    response = _models_client(**connection).send(embed_request(model, inputs))
    if as_json:
        _echo_json(response)
        return
    embeddings = read_embeddings(response, len(inputs))
    vectors = embeddings.vectors
    tokens = f"; {embeddings.total_tokens} tokens" if embeddings.total_tokens is not None else ""
    click.echo(f"{len(vectors)} embedding(s) of {len(vectors[0]) if vectors else 0} dimensions{tokens}", err=True)
    for number, text in enumerate(inputs, start=1):
        shown = " ".join(text.split())  # one line per input, however the text is laid out
        click.echo(f"#{number}  {shown if len(shown) <= 60 else shown[:57] + '...'}")
    if len(vectors) < 2:
        click.echo("give two or more inputs to compare them", err=True)
        return
    click.echo(f"{'pair':<10}" + "".join(f"{name:>12}" for name in SIMILARITY))
    for i in range(len(vectors)):
        for j in range(i + 1, len(vectors)):
            scores = "".join(f"{measure(vectors[i], vectors[j]):>12.4f}" for measure in SIMILARITY.values())
            click.echo(f"{f'#{i + 1} #{j + 1}':<10}{scores}")


@models.command("feedback")
@click.argument("generation_id")
@click.argument("rating", type=click.Choice(["GOOD", "BAD"], case_sensitive=False))
@click.option("--text", "-t", default="", help="What was good or bad (stored up to 1024 characters).")
@click.option("--source", default="human", show_default=True, help="Who gives the feedback, e.g. human or app.")
@models_connection
def models_feedback(generation_id: str, rating: str, text: str, source: str, as_json: bool, **connection: Any) -> None:
    """Rate a generation GOOD or BAD.

    GENERATION_ID is the id printed by generate, chat or try. Prints the id of the new feedback.
    Sends POST /feedback."""
    from apexgen.models_api.client import feedback_request

    request = feedback_request(generation_id, rating.upper(), text, source)
    response = _models_client(**connection).send(request)
    if as_json:
        _echo_json(response)
        return
    click.echo(request.body["id"])
    click.echo(f"{rating.upper()} feedback on {generation_id}: {response.get('message', 'accepted')}", err=True)


def _input_values(prompt: Any, pairs: tuple[str, ...]) -> dict[str, str]:
    """``--input name=value`` pairs as the values of the prompt's declared inputs (names ignore case, as in Apex)."""
    declared = {i.name.lower(): i for i in prompt.inputs}
    known = ", ".join(i.name for i in prompt.inputs) or "none"
    values: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals:
            raise UsageError(f"--input '{pair}' must be NAME=VALUE")
        item = declared.get(name.strip().lower())
        if item is None:
            raise UsageError(f"prompt '{prompt.name}' has no input '{name}' (inputs: {known})")
        values[item.name] = value
    missing = [i.name for i in prompt.inputs if i.required and i.name not in values]
    if missing:
        raise UsageError(f"prompt '{prompt.name}' needs input(s): {', '.join(missing)} (give --input NAME=VALUE)")
    return values


@models.command("try")
@click.argument("name")
@click.option(
    "--input",
    "-i",
    "inputs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value of one of the prompt's inputs (repeatable).",
)
@spec_option
@click.option(
    "--dry-run", is_flag=True, help="Print the request that would be sent (method, path, body) and send nothing."
)
@models_connection
def models_try(
    name: str,
    inputs: tuple[str, ...],
    spec_path: str | None,
    project_dir: str | None,
    dry_run: bool,
    as_json: bool,
    **connection: Any,
) -> None:
    """Run a prompt of the spec as its generated Apex would.

    NAME is a generate or chat prompt of the spec. The request has the same template merge,
    system message, model, localization and tags as the generated service sends; inputs left
    out are merged as empty text."""
    from apexgen.models_api.client import prompt_request
    from apexgen.spec.load import load_spec

    spec_path = spec_path_of(spec_path, project_dir)
    loaded = load_spec(spec_path)
    by_name = {p.name.lower(): p for p in loaded.prompts}
    prompt = by_name.get(name.lower())
    if prompt is None:
        raise UsageError(f"{spec_path} has no prompt '{name}' (prompts: {', '.join(p.name for p in loaded.prompts)})")
    if prompt.capability not in ("generate", "chat"):
        model = prompt.model.api_name if prompt.model else "API_NAME"
        command = (
            f"embed --model {model} TEXT..." if prompt.capability == "embed" else "feedback GENERATION_ID GOOD|BAD"
        )
        raise UsageError(
            f"prompt '{prompt.name}' ({prompt.capability}) has no template to try; use 'apexgen models {command}'"
        )
    request = prompt_request(prompt, _input_values(prompt, inputs))
    if dry_run:  # the request is the output: plain JSON, or in sf's envelope with --json
        if as_json:
            _echo_json(request.document())
        else:
            click.echo(json.dumps(request.document(), indent=2, ensure_ascii=False))
        return
    click.echo(f"trying {prompt.name} ({prompt.capability}) on {request.model}", err=True)
    response = _models_client(project_dir, **connection).send(request)
    _echo_generation(response, as_json)
    if prompt.outputs and not as_json:
        _echo_outputs(prompt, response)


def _echo_outputs(prompt: Any, response: dict[str, Any]) -> None:
    """The prompt's outputs read from the answer, as the generated service reads them (stdout), or what
    did not match (exit 1)."""
    from apexgen.errors import ApexgenError
    from apexgen.models_api.client import read_generation
    from apexgen.spec.answer import mismatch_message, read_outputs

    values, problems = read_outputs(prompt.outputs, read_generation(response).text)
    if problems:
        raise ApexgenError(mismatch_message(problems))
    click.echo("outputs:")
    for item in prompt.outputs:
        click.echo(f"  {item.name} ({item.type}): {printable(str(values[item.name]))}")
