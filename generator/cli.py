"""The apexgen command line: the only module that imports click.

Commands call the library, then turn its results into output and exit codes. Data goes to stdout,
status and progress to stderr. Library modules are imported inside commands so that
``apexgen --help`` stays fast.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from generator import __version__
from generator.errors import ApexgenError, ExitCode, UsageError

EXIT_CODES_HELP = """\b
Exit codes:
  0    success
  1    problems found; deploy or tests failed
  2    usage error: bad flag, bad spec, missing tools
  3    a generated file was edited by hand; nothing written
  4    connection or authentication failed
  130  interrupted
"""


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Report library errors as one line on stderr with their exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ApexgenError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(ExitCode.INTERRUPTED)

    return wrapper


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="apexgen")
def main() -> None:
    """Turn a short spec into a tested Salesforce Models API integration.

    apexgen writes Apex services, Flow actions and LWC controllers over aiplatform.ModelsAPI, with
    the Apex tests that cover them, checks them offline with Salesforce's own tools, and deploys them.
    """


def project_root(directory: str | None) -> Path:
    return Path(directory or ".").resolve()


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--api-version", default="65.0", show_default=True, help="Salesforce API version of the project.")
@click.option("--namespace", default="", help="Managed-package namespace prefix (default: none).")
@handle_errors
def init(directory: str | None, api_version: str, namespace: str) -> None:
    """Create a new SFDX project with a commented example apexgen.toml."""
    from generator.scaffold import init_project

    root = project_root(directory)
    for path in init_project(root, api_version, namespace):
        click.echo(f"  create {path}", err=True)
    click.echo(f"Created project in {root}. Next: edit apexgen.toml, then run 'apexgen generate'.", err=True)


@main.command()
@click.option("--spec", "spec_path", default="apexgen.toml", show_default=True, type=click.Path(dir_okay=False),
              help="The spec; the project root is the folder that holds it.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of what would change; write nothing.")
@click.option("--force", is_flag=True, help="Overwrite generated files that were edited by hand.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as one JSON document.")
@handle_errors
def generate(spec_path: str, dry_run: bool, show_diff: bool, force: bool, as_json: bool) -> None:
    """Generate the Apex of apexgen.toml: services, Flow actions, LWC controllers and their tests.

    A generated file that was edited by hand is never overwritten: generate names it, writes
    nothing and exits with 3, unless --force is given.
    """
    from generator.render import render_plan
    from generator.spec import check_project_file, load_spec
    from generator.write import Action, apply_changes, plan_changes

    spec = load_spec(spec_path)
    root = Path(spec_path).resolve().parent
    check_project_file(spec, root)
    changes = plan_changes(root, render_plan(spec))
    writes = not (dry_run or show_diff)
    if writes:
        apply_changes(root, changes, force=force)
    if as_json:
        import json

        document = {
            "written": writes,
            "files": [{"path": c.path, "action": c.action.value, **({"reason": c.reason} if c.reason else {})} for c in changes],
        }
        click.echo(json.dumps(document, indent=2))
    elif show_diff:
        for change in changes:
            click.echo(change.diff(), nl=False)
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.action.value] = counts.get(change.action.value, 0) + 1
        if change.action is not Action.UNCHANGED and not as_json:
            note = f" ({change.reason})" if change.reason else ""
            click.echo(f"  {change.action.value:>9} {change.path}{note}", err=True)
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
    click.echo(f"{'Would change' if not writes else 'Generated'} {len(changes)} files: {summary}", err=True)


# ---------------------------------------------------------------------------------------------------
# apexgen models: the Models REST API from the terminal


@main.group()
def models() -> None:
    """Call the Models REST API: try models and spec prompts before generating Apex.

    \b
    Authentication: OAuth client credentials of an External Client App (scopes api, sfap_api;
    Client Credentials Flow; JWT-based access tokens) against the org's My Domain.
    Consumer key: --client-id or SF_CLIENT_ID. Consumer secret: --client-secret-file or
    SF_CLIENT_SECRET, never a flag. Either is asked for on a terminal when unset (the secret hidden).
    """


def models_connection(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command that calls the API shares; the consumer secret is never one of them."""
    options = [
        click.option(
            "--instance-url",
            metavar="URL",
            envvar="SF_INSTANCE_URL",
            show_envvar=True,
            help="The org's My Domain URL, where the access token is requested.",
        ),
        click.option(
            "--client-id",
            metavar="KEY",
            envvar="SF_CLIENT_ID",
            show_envvar=True,
            help="Consumer key of the External Client App (asked for on a terminal when unset).",
        ),
        click.option(
            "--client-secret-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="File holding the consumer secret; else SF_CLIENT_SECRET, else a hidden prompt on a terminal.",
        ),
        click.option(
            "--api-url",
            metavar="URL",
            envvar="APEXGEN_MODELS_API_URL",
            show_envvar=True,
            help="Base URL of the Models REST API  [default: https://api.salesforce.com/einstein/platform/v1]",
        ),
        click.option(
            "--http-timeout",
            type=click.FloatRange(min=0, min_open=True),
            envvar="APEXGEN_HTTP_TIMEOUT",
            show_envvar=True,
            help="Seconds to wait for each answer  [default: 120, as long as an Apex callout may wait]",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the raw response JSON on stdout."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _ask(label: str, where: str, hide: bool) -> str:
    if not sys.stdin.isatty():
        raise UsageError(f"give the External Client App's {label} with {where} (asked for only on a terminal)")
    return click.prompt(label[:1].upper() + label[1:], hide_input=hide, err=True)


def _models_client(
    instance_url: str | None,
    client_id: str | None,
    client_secret_file: Path | None,
    api_url: str | None,
    http_timeout: float | None,
) -> Any:
    from generator.models_api import DEFAULT_API_URL, DEFAULT_TIMEOUT, Credentials, ModelsClient

    if not instance_url:
        raise UsageError("give the org's My Domain URL with --instance-url or SF_INSTANCE_URL (Setup > My Domain)")
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
    return stream.read().rstrip("\n")


def _check_capability(model: str, capability: str) -> None:
    """Stop a call a standard model cannot answer; names not in the table (configured models) go through."""
    from generator.model_names import STANDARD_MODELS

    known = STANDARD_MODELS.get(model)
    if known is not None and capability not in known.capabilities:
        raise UsageError(
            f"{model} cannot {capability}; it supports: {', '.join(known.capabilities)} (see 'apexgen models list')"
        )


def _echo_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _echo_generation(response: dict[str, Any], as_json: bool) -> None:
    """The text on stdout; generation id, token usage and toxicity on stderr, so stdout pipes cleanly."""
    from generator.models_api import read_generation

    if as_json:
        _echo_json(response)
        return
    generation = read_generation(response)
    click.echo(generation.text)
    if generation.generation_id:
        click.echo(f"generation id: {generation.generation_id}", err=True)
    usage = generation.usage
    if usage and {"prompt_tokens", "completion_tokens", "total_tokens"} <= usage.keys():
        click.echo(
            f"tokens: {usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion = {usage['total_tokens']}",
            err=True,
        )
    if generation.toxicity_detected:
        highest = generation.highest_toxicity
        detail = f": highest category {highest[0]} ({highest[1]:.2f})" if highest else ""
        click.echo(f"toxicity detected{detail}", err=True)


model_option = click.option(
    "--model", "-m", metavar="API_NAME", required=True, help="Model API name, e.g. sfdc_ai__DefaultGPT4OmniMini."
)


@models.command("list")
@click.option("--capability", type=click.Choice(["generate", "chat", "embed"]), help="Only models that can do this.")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON on stdout.")
@handle_errors
def models_list(capability: str | None, as_json: bool) -> None:
    """List the standard model API names and their capabilities.

    The same table validates the models of apexgen.toml. Einstein Studio configured models and
    BYOLLM models are not listed: call them by their own API name."""
    from generator.model_names import STANDARD_MODELS

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
@handle_errors
def models_generate(prompt: str | None, file: Any, model: str, as_json: bool, **connection: Any) -> None:
    """Generate text from a prompt.

    PROMPT is the argument, else the --file, else stdin (a trailing newline is dropped).
    Sends POST /models/{model}/generations."""
    from generator.models_api import generate_request

    _check_capability(model, "generate")
    request = generate_request(model, _read_text(prompt, file, "prompt"))
    _echo_generation(_models_client(**connection).send(request), as_json)


@models.command("chat")
@click.argument("message", required=False)
@click.option("--file", "-f", type=click.File(encoding="utf-8"), help="Read the user message from this file ('-' for stdin).")
@click.option("--system", "-s", help="System message, sent first.")
@click.option(
    "--conversation",
    "-c",
    type=click.File(encoding="utf-8"),
    help='Earlier messages: a JSON list of {"role": "system|user|assistant", "content": "..."}.',
)
@model_option
@models_connection
@handle_errors
def models_chat(
    message: str | None, file: Any, system: str | None, conversation: Any, model: str, as_json: bool, **connection: Any
) -> None:
    """Chat with a model: a system message, earlier messages, a new message.

    The messages go in this order: --system, the --conversation file, then MESSAGE (the argument,
    else --file, else stdin). With --conversation alone, no new message is added.
    Sends POST /models/{model}/chat-generations."""
    from generator.models_api import chat_request, read_conversation

    _check_capability(model, "chat")
    history = read_conversation(conversation.read(), conversation.name) if conversation is not None else []
    if system is not None and any(m["role"] == "system" for m in history):
        raise UsageError("the conversation already has a system message; drop --system or edit the file")
    messages = ([{"role": "system", "content": system}] if system is not None else []) + history
    if message is not None or file is not None or not history:
        messages.append({"role": "user", "content": _read_text(message, file, "message")})
    _echo_generation(_models_client(**connection).send(chat_request(model, messages)), as_json)


@models.command("embed")
@click.argument("texts", nargs=-1)
@click.option(
    "--file", "-f", "files", multiple=True, type=click.File(encoding="utf-8"), help="A file whose text is one input (repeatable)."
)
@model_option
@models_connection
@handle_errors
def models_embed(texts: tuple[str, ...], files: tuple[Any, ...], model: str, as_json: bool, **connection: Any) -> None:
    """Embed texts and compare them pairwise.

    The inputs are each TEXT and each --file; without either, each non-empty line of stdin.
    Every pair is compared by cosine similarity, dot product and Euclidean distance.
    Sends POST /models/{model}/embeddings."""
    from generator.models_api import SIMILARITY, embed_request, read_embeddings

    _check_capability(model, "embed")
    inputs = list(texts) + [f.read().rstrip("\n") for f in files]
    if not inputs:
        stdin = sys.stdin
        if stdin.isatty():
            raise UsageError("give the texts to embed as arguments, with --file, or one per line on stdin")
        inputs = [line for line in stdin.read().splitlines() if line.strip()]
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
@handle_errors
def models_feedback(generation_id: str, rating: str, text: str, source: str, as_json: bool, **connection: Any) -> None:
    """Rate a generation GOOD or BAD.

    GENERATION_ID is the id printed by generate, chat or try. Prints the id of the new feedback.
    Sends POST /feedback."""
    from generator.models_api import feedback_request

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
@click.option("--input", "-i", "inputs", multiple=True, metavar="NAME=VALUE", help="A value of one of the prompt's inputs (repeatable).")
@click.option("--spec", default="apexgen.toml", show_default=True, type=click.Path(dir_okay=False), help="The spec to read.")
@click.option("--dry-run", is_flag=True, help="Print the request that would be sent (method, path, body) and send nothing.")
@models_connection
@handle_errors
def models_try(name: str, inputs: tuple[str, ...], spec: str, dry_run: bool, as_json: bool, **connection: Any) -> None:
    """Run a prompt of the spec as its generated Apex would.

    NAME is a generate or chat prompt of the spec. The request has the same template merge,
    system message, model, localization and tags as the generated service sends; inputs left
    out are merged as empty text."""
    from generator.models_api import prompt_request
    from generator.spec import load_spec

    loaded = load_spec(spec)
    by_name = {p.name.lower(): p for p in loaded.prompts}
    prompt = by_name.get(name.lower())
    if prompt is None:
        raise UsageError(f"{spec} has no prompt '{name}' (prompts: {', '.join(p.name for p in loaded.prompts)})")
    if prompt.capability not in ("generate", "chat"):
        model = prompt.model.api_name if prompt.model else "API_NAME"
        command = f"embed --model {model} TEXT..." if prompt.capability == "embed" else "feedback GENERATION_ID GOOD|BAD"
        raise UsageError(f"prompt '{prompt.name}' ({prompt.capability}) has no template to try; use 'apexgen models {command}'")
    request = prompt_request(prompt, _input_values(prompt, inputs))
    if dry_run:
        _echo_json(request.document())
        return
    click.echo(f"trying {prompt.name} ({prompt.capability}) on {request.model}", err=True)
    _echo_generation(_models_client(**connection).send(request), as_json)

# ---------------------------------------------------------------------------------------------------
# apexgen check / apexgen tools: the offline preflight with Salesforce's own tools


@main.command()
@click.option("--project-dir", type=click.Path(file_okay=False), help="The SFDX project  [default: .]")
@click.option(
    "--deep",
    is_flag=True,
    help="Also run jorje (Salesforce's Apex parser), prettier-plugin-apex, apex-ls (semantic analysis) and "
    "PMD 7, in parallel. Needs Node >= 18, a JDK >= 17 and 'apexgen tools install'.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="With --deep: look at every file again, instead of reusing what the last check learnt of unchanged files.",
)
@click.option(
    "--pmd-rules",
    default="security,bestpractices",
    show_default=True,
    metavar="CATEGORIES",
    help="PMD Apex rule categories for --deep, comma-separated (bestpractices, codestyle, design, documentation, "
    "errorprone, multithreading, performance, security); empty to skip PMD. Security findings are errors, the "
    "others warnings.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (findings and summary) on stdout.")
@handle_errors
def check(project_dir: str | None, deep: bool, no_cache: bool, pmd_rules: str, as_json: bool) -> None:
    """Check an SFDX project offline, before it costs an org round-trip.

    \b
    Fast (pure Python): apexgen.toml, generated files against the manifest, every
    metadata XML file against the Metadata API XSD, .cls/.trigger paired with their
    -meta.xml, sfdx-project.json against Salesforce's schema, API versions.
    With --deep: jorje syntax, prettier formatting (warnings), apex-ls semantic
    errors (undefined methods, fields and types, wrong types, aiplatform), PMD.

    Prints one line per finding, sorted: file:line:col severity tool rule message.
    Exits 0 when there is no error (warnings alone do not fail), 1 when there are
    errors, 2 when --deep tools are missing.
    """
    import json

    from generator.check import run_checks, summarize

    findings = run_checks(project_root(project_dir), deep=deep, pmd_rules=pmd_rules.split(","), use_cache=not no_cache)
    summary = {**summarize(findings), "deep": deep}
    if as_json:
        click.echo(json.dumps({"findings": [f.to_dict() for f in findings], "summary": summary}, indent=2))
    else:
        for finding in findings:
            click.echo(str(finding))
        kind = "deep" if deep else "fast"
        click.echo(f"{summary['errors']} error(s), {summary['warnings']} warning(s) ({kind} check)", err=True)
    sys.exit(ExitCode.FINDINGS if summary["errors"] else ExitCode.OK)


@main.group()
def tools() -> None:
    """Install and inspect what 'apexgen check --deep' runs: pinned npm packages, Node and Java."""


@tools.command("install")
@handle_errors
def tools_install() -> None:
    """npm-install the pinned packages into the per-user cache (npm shows its own progress).

    Exits 2 when Node, npm or a JDK is missing, saying how to get it.
    """
    from generator.errors import ToolsMissingError
    from generator.toolchain import PINNED_PACKAGES, Toolchain, cache_install_dir, install_tools, jorje_batch_classes, runtime_problems

    pins = " ".join(f"{package}@{version}" for package, version in PINNED_PACKAGES.items())
    click.echo(f"Installing {pins} into {cache_install_dir()}", err=True)
    node_modules = install_tools()
    click.echo(str(node_modules))
    problems = runtime_problems()
    if problems:
        raise ToolsMissingError(f"the Node packages are installed, but still missing: {'; '.join(problems)}")
    jorje_batch_classes(Toolchain(node_modules))  # compiled now rather than on the first deep check
    click.echo("Ready: 'apexgen check --deep' can run.", err=True)


@tools.command("status")
@click.option("--project-dir", type=click.Path(file_okay=False), help="The project whose tools to look for  [default: .]")
@handle_errors
def tools_status(project_dir: str | None) -> None:
    """Show the runtimes found and, for every place searched, whether the pinned packages are there.

    Exits 0 when 'apexgen check --deep' can run, 2 when something is missing.
    """
    from generator.toolchain import INSTALL_COMMAND, MIN_JAVA, MIN_NODE, PINNED_PACKAGES, tools_status

    status = tools_status(project_root(project_dir))
    ready = status.selected is not None
    for name, major, minimum in (("node", status.node, MIN_NODE), ("java", status.java, MIN_JAVA)):
        state = "not found" if major is None else f"{major} ({'ok' if major >= minimum else 'too old'})"
        ready = ready and major is not None and major >= minimum
        click.echo(f"{name:<8} {state}, needs >= {minimum}")
    ready = ready and status.javac is not None
    click.echo(f"{'javac':<8} {status.javac or 'not found: a JDK (not only a JRE) is needed'}")
    click.echo("pinned   " + " ".join(f"{package}@{version}" for package, version in PINNED_PACKAGES.items()))
    for place in status.places:
        if not place.exists:
            state = "not present"
        elif place.usable:
            state = "in use" if place.directory == status.selected else "usable"
        else:
            state = "; ".join(place.problems)
        click.echo(f"  {place.directory}: {state}")
    if not ready:
        click.echo(f"'apexgen check --deep' cannot run yet: see above, and run '{INSTALL_COMMAND}'", err=True)
        sys.exit(ExitCode.USAGE)


# ---------------------------------------------------------------------------------------------------
# apexgen deploy / apexgen test: the Metadata API and Tooling API, with reports for people and CI

TEST_LEVEL_CHOICES = ["NoTestRun", "RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg"]


def report_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Where a deploy or test run reports: one JSON document on stdout, JUnit and Cobertura files."""
    for option in reversed([
        click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document on stdout."),
        click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write the test results as JUnit XML."),
        click.option("--coverage", type=click.Path(dir_okay=False, path_type=Path), help="Write code coverage as Cobertura XML."),
    ]):
        command = option(command)
    return command


def org_connection(command: Callable[..., Any]) -> Callable[..., Any]:
    """How to reach the org; secrets come from environment variables, files or a prompt, never from flags."""
    options = [
        click.option("--target-org", metavar="ALIAS", help="An org the sf CLI is logged in to (sf org display)."),
        click.option(
            "--instance-url",
            metavar="URL",
            help="The org's URL, with the access token in SF_ACCESS_TOKEN.",
        ),
        click.option(
            "--username",
            help="Log in as this user: SOAP login with SF_PASSWORD and SF_SECURITY_TOKEN (asked for on a "
            "terminal), or JWT bearer with --client-id and --jwt-key-file.",
        ),
        click.option(
            "--client-id",
            metavar="KEY",
            help="Connected app consumer key: JWT bearer with --jwt-key-file, else OAuth client credentials "
            "with SF_CLIENT_SECRET or --client-secret-file (needs the My Domain --login-url).",
        ),
        click.option("--jwt-key-file", type=click.Path(dir_okay=False, path_type=Path), help="Private key (PEM) for JWT bearer."),
        click.option(
            "--client-secret-file", type=click.Path(dir_okay=False, path_type=Path), help="File holding the consumer secret."
        ),
        click.option(
            "--login-url",
            default="https://login.salesforce.com",
            show_default=True,
            help="Where to log in: https://test.salesforce.com for a sandbox, or the org's My Domain URL.",
        ),
        click.option("--http-timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
                     help="Seconds to wait for each answer from the org."),
        click.option("--verbose", "-v", is_flag=True, help="Log each call to the org on stderr (never a secret)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _connect(options: dict[str, Any], api_version: str) -> Any:
    from generator.connect import LoginOptions, connect

    def prompt(variable: str) -> str:
        if not sys.stdin.isatty():
            raise UsageError(f"set the environment variable {variable} (asked for only on a terminal)")
        return click.prompt(variable, hide_input=True, err=True)

    def log(message: str) -> None:
        if options["verbose"]:
            click.echo(f"[apexgen] {message}", err=True)

    login = LoginOptions(
        target_org=options["target_org"], instance_url=options["instance_url"], username=options["username"],
        client_id=options["client_id"], jwt_key_file=options["jwt_key_file"],
        client_secret_file=options["client_secret_file"], login_url=options["login_url"],
        api_version=api_version, http_timeout=options["http_timeout"],
    )
    connection = connect(login, prompt=prompt, log=log)
    click.echo(f"Connected to {connection.instance_url} ({connection.method})", err=True)
    return connection


def _project_sources(root: Path) -> tuple[Any, str, Any]:
    """(SourceMap, API version, converted project or None) for an SFDX project at root, if there is one."""
    from generator.convert import DEFAULT_API_VERSION
    from generator.deploy import convert
    from generator.report import SourceMap

    if not (root / "sfdx-project.json").is_file():
        return SourceMap(), DEFAULT_API_VERSION, None
    project, notes = convert(root)
    for note in notes:
        click.echo(note, err=True)
    return SourceMap(project.source_paths), project.api_version, project


class _Progress:
    """A live line on stderr while the org works: stage, components and tests done of total. Only on a TTY;
    rich draws it because click has no multi-counter status line. Retry notes go to stderr either way."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.progress: Any = None

    def __enter__(self) -> "_Progress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )
            self.progress.start()
            self.components = self.progress.add_task("Waiting for the org", total=None, detail="components")
            self.tests = self.progress.add_task("", total=None, detail="tests", visible=False)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.progress is not None:
            self.progress.stop()

    def deploy(self, result: Any) -> None:
        if self.progress is None:
            return
        if result.status == "Pending":
            stage = "Waiting for the org"
        elif result.components_total and result.components_deployed >= result.components_total and result.tests_total:
            stage = "Running tests"
        elif result.status == "Canceling":
            stage = "Canceling"
        else:
            stage = "Deploying metadata"
        self.progress.update(self.components, description=stage, total=result.components_total or None,
                             completed=result.components_deployed, detail="components")
        if result.tests_total:
            failed = f", {result.test_errors} failed" if result.test_errors else ""
            self.progress.update(self.tests, visible=True, total=result.tests_total,
                                 completed=result.tests_completed + result.test_errors, detail=f"tests{failed}")

    def test_run(self, run: Any) -> None:
        if self.progress is None:
            return
        failed = f", {run.methods_failed} failed" if run.methods_failed else ""
        self.progress.update(self.components, description=f"Tests {run.status}", total=run.methods_total or None,
                             completed=run.methods_completed, detail=f"test methods{failed}")

    def note(self, message: str) -> None:
        if self.progress is not None:
            self.progress.console.print(message, markup=False, highlight=False)
        else:
            click.echo(message, err=True)


def _write_reports(tests: Any, sources: Any, root: Path, junit: Path | None, coverage: Path | None, suite: str) -> None:
    from generator.report import cobertura_xml, junit_xml

    for path, render in ((junit, lambda: junit_xml(tests, suite)), (coverage, lambda: cobertura_xml(tests, sources, str(root)))):
        if path is None:
            continue
        try:
            path.write_bytes(render())
        except OSError as exc:
            raise UsageError(f"cannot write {path} ({exc.strerror})") from None
        click.echo(f"Wrote {path}", err=True)


def _emit_json_error(as_json: bool, exc: ApexgenError, job_id: str | None) -> None:
    if as_json:
        click.echo(json.dumps({"error": str(exc), "exitCode": int(exc.exit_code), "id": job_id}, indent=2))


@main.command()
@click.option("--project-dir", type=click.Path(file_okay=False), help="The SFDX project  [default: .]")
@click.option("--validate", is_flag=True, help="Validate only (checkOnly): compile and run tests, commit nothing.")
@click.option("--test-level", type=click.Choice(TEST_LEVEL_CHOICES), default="RunSpecifiedTests", show_default=True)
@click.option("--tests", metavar="NAMES", help="Comma-separated test classes  [default: the project's @IsTest classes]")
@click.option("--wait", default="33", show_default=True, metavar="DURATION",
              help="How long to wait: minutes, or 90s / 10m / 1h; 0 starts the deploy and returns its id.")
@click.option("--resume", metavar="ID", help="Wait for (and report) a deploy that is already running.")
@click.option("--cancel", metavar="ID", help="Cancel a running deploy and wait until it is canceled.")
@click.option("--quick", metavar="ID", help="Deploy a validation that passed in the last 10 days (no tests run again).")
@click.option("--skip-checks", is_flag=True, help="Deploy without the offline checks of apexgen check.")
@click.option("--deep-checks", is_flag=True, help="Run the deep checks of apexgen check before deploying.")
@report_options
@org_connection
@handle_errors
def deploy(**options: Any) -> None:
    """Check, convert and deploy the project through the Metadata API, then report like a CI tool.

    By default `apexgen check` runs first (deep where its tools are installed) and the project's
    @IsTest classes run as RunSpecifiedTests. The summary lists each component error as file:line:col, each failing test with
    its message and stack, and coverage per class and in total against the 75% rule.

    \b
    Exit codes: 0 deployed (or canceled with --cancel); 1 checks, components, tests or coverage failed,
    or the deploy was still running when --wait ran out; 2 bad input; 4 connection or login failed;
    130 interrupted (the deploy keeps running: the resume command is printed).
    """
    from generator import deploy as deploying
    from generator.mdapi import MetadataClient, check_id
    from generator.report import SourceMap, deploy_json, deploy_summary

    root = project_root(options["project_dir"])
    modes = [flag for flag in ("resume", "cancel", "quick") if options[flag]]
    as_json = options["as_json"]
    deploy_id: str | None = None
    in_flight = False  # a deploy request was sent and its answer (the id) has not arrived
    try:
        if len(modes) > 1:
            raise UsageError(f"--{modes[0]} and --{modes[1]} cannot be combined")
        if modes and options["validate"]:
            raise UsageError(f"--validate starts a new deploy; it cannot be combined with --{modes[0]}")
        if options["skip_checks"] and options["deep_checks"]:
            raise UsageError("--skip-checks and --deep-checks cannot be combined")
        for mode in modes:
            check_id(f"--{mode}", options[mode])
        deploy_id = options["resume"] or options["cancel"]
        wait_seconds = deploying.parse_wait(options["wait"])
        tests = _test_names(options["tests"], options["test_level"])
        if modes:
            sources, api_version, _ = _project_sources(root)
        else:
            checks = "skip" if options["skip_checks"] else "deep" if options["deep_checks"] else "auto"
            prepared = deploying.prepare(root, check_only=options["validate"], test_level=options["test_level"],
                                         tests=tests, checks=checks)
            for warning in prepared.check_warnings:
                click.echo(f"check: {deploying.format_finding(warning)}", err=True)
            for note in prepared.notes:
                click.echo(note, err=True)
            sources, api_version = SourceMap(prepared.project.source_paths), prepared.project.api_version
        client = MetadataClient(_connect(options, api_version), client_name=f"apexgen/{__version__}")
        if options["cancel"]:
            done = client.cancel_deploy(deploy_id)
            click.echo(f"Cancel requested for {deploy_id}" + (" (it was still queued)" if done else ""), err=True)
        elif options["quick"]:
            deploy_id = client.deploy_recent_validation(options["quick"])
            click.echo(f"Quick deploy {deploy_id} of validation {options['quick']} started", err=True)
        elif not modes:
            in_flight = True
            deploy_id = client.deploy(prepared.project.zip_bytes, prepared.options)
            in_flight = False
            what = "Validation" if options["validate"] else "Deploy"
            tests_note = f", tests: {', '.join(prepared.options.run_tests)}" if prepared.options.run_tests else ""
            click.echo(f"{what} {deploy_id} started: {prepared.project.component_count} components, "
                       f"{prepared.options.test_level}{tests_note}", err=True)
        if wait_seconds == 0:
            if as_json:
                click.echo(json.dumps({"id": deploy_id, "status": "Queued"}, indent=2))
            else:
                click.echo(deploy_id)
            click.echo(f"Not waiting. Report it with: apexgen deploy --resume {deploy_id}", err=True)
            return
        with _Progress(sys.stderr.isatty() and not as_json) as progress:
            result = deploying.wait_for_deploy(client, deploy_id, wait_seconds=wait_seconds,
                                               on_progress=progress.deploy, on_retry=progress.note)
    except KeyboardInterrupt:
        if deploy_id:
            click.echo(f"interrupted; {deploy_id} goes on in the org. Follow it: apexgen deploy --resume {deploy_id}"
                       f"  Cancel it: apexgen deploy --cancel {deploy_id}", err=True)
        elif in_flight:
            click.echo("interrupted while the deploy request was on its way; it may have started in the org "
                       "(Setup > Deployment Status)", err=True)
        else:
            click.echo("interrupted before a deploy was started", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except ApexgenError as exc:
        _emit_json_error(as_json, exc, deploy_id)
        if deploy_id and exc.exit_code != ExitCode.USAGE:
            click.echo(f"{deploy_id} may still be running in the org: apexgen deploy --resume {deploy_id}", err=True)
        raise
    _write_reports(result.test_result, sources, root, options["junit"], options["coverage"], "apexgen deploy")
    if as_json:
        click.echo(json.dumps(deploy_json(result, sources), indent=2))
    else:
        click.echo(deploy_summary(result, sources), nl=False)
    if result.check_only and result.success:
        click.echo(f"Deploy this validation without running tests again: apexgen deploy --quick {result.id}", err=True)
    sys.exit(deploying.exit_code_for(result, canceling=bool(options["cancel"])))


def _test_names(value: str | None, test_level: str) -> list[str]:
    names = [name.strip() for name in (value or "").split(",") if name.strip()]
    if names and test_level != "RunSpecifiedTests":
        raise UsageError(f"--tests: names test classes for --test-level RunSpecifiedTests, not {test_level}")
    return names


@main.command("test")
@click.option("--project-dir", type=click.Path(file_okay=False), help="The SFDX project  [default: .]")
@click.option("--test-level", type=click.Choice(TEST_LEVEL_CHOICES[1:]), default="RunSpecifiedTests", show_default=True)
@click.option("--tests", metavar="NAMES", help="Comma-separated test classes  [default: the project's @IsTest classes]")
@click.option("--wait", default="33", show_default=True, metavar="DURATION", help="How long to wait: minutes, or 90s / 10m / 1h.")
@report_options
@org_connection
@handle_errors
def test_command(**options: Any) -> None:
    """Run the project's Apex tests in the org (Tooling API) and report results and coverage.

    Coverage is reported for the project's non-test classes, line by line.

    \b
    Exit codes: 0 all tests passed and coverage is at least 75%; 1 a test failed, coverage is under 75%,
    or the run was still going when --wait ran out; 2 bad input; 4 connection or login failed;
    130 interrupted (the run keeps going in the org).
    """
    from generator import apex_tests
    from generator.deploy import find_test_classes, parse_wait
    from generator.report import coverage_summary, tests_summary, test_run_json, total_coverage, REQUIRED_COVERAGE

    root = project_root(options["project_dir"])
    as_json = options["as_json"]
    run_id: str | None = None
    try:
        wait_seconds = parse_wait(options["wait"])
        if wait_seconds == 0:
            raise UsageError("--wait: apexgen test needs a wait above 0")
        sources, api_version, project = _project_sources(root)
        if project is None:
            raise UsageError(f"{root / 'sfdx-project.json'}: not found; run apexgen test in an SFDX project "
                             "or pass --project-dir")
        test_classes = find_test_classes(root, project)
        names = _test_names(options["tests"], options["test_level"]) or test_classes
        if options["test_level"] == "RunSpecifiedTests" and not names:
            raise UsageError("--tests: the project has no @IsTest class; name the test classes to run")
        covered = [m for m in project.members.get("ApexClass", []) if m not in test_classes]
        tooling = apex_tests.ToolingSession(_connect(options, api_version))
        run_id = tooling.start(options["test_level"], names)
        click.echo(f"Test run {run_id} started: {options['test_level']}"
                   + (f", {', '.join(names)}" if options["test_level"] == "RunSpecifiedTests" else ""), err=True)
        with _Progress(sys.stderr.isatty() and not as_json) as progress:
            run = apex_tests.wait_for_run(tooling, run_id, wait_seconds=wait_seconds,
                                          on_progress=progress.test_run, on_retry=progress.note)
        results = apex_tests.collect_results(tooling, run_id, covered)
    except KeyboardInterrupt:
        where = f"; {run_id} goes on in the org" if run_id else ""
        click.echo(f"interrupted{where}", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except ApexgenError as exc:
        _emit_json_error(as_json, exc, run_id)
        raise
    _write_reports(results, sources, root, options["junit"], options["coverage"], "apexgen test")
    _, _, percent = total_coverage(results.coverage)
    passed = not results.failures and run.status == "Completed" and percent >= REQUIRED_COVERAGE
    if as_json:
        click.echo(json.dumps({"id": run_id, "status": run.status, "success": passed,
                               **test_run_json(results, sources)}, indent=2))
    else:
        lines = [f"Test run {run_id}: {run.status}", *tests_summary(results, sources), *coverage_summary(results, sources)]
        click.echo("\n".join(lines))
    sys.exit(ExitCode.OK if passed else ExitCode.FINDINGS)


# ---------------------------------------------------------------------------------------------------
# apexgen package: 2GP package versions (Dev Hub) and 1GP uploads (packaging org)


@main.group("package")
def package_group() -> None:
    """Build managed and unlocked package versions from the project.

    \b
    2GP (second-generation): the org you connect to is the Dev Hub.
      apexgen package create --name NAME         Package2, recorded in sfdx-project.json
      apexgen package version create             a version of it, polled until built
      apexgen package version promote VERSION    release a version (75% coverage needed)
    1GP (first-generation): the org you connect to is the packaging org.
      apexgen package upload --name VERSION_NAME
    sfdx-project.json keeps the same keys as `sf package ...`, so both tools work on one project.
    """


class _StatusLine:
    """While a version or upload builds (minutes to hours): on a terminal a spinner with the status and the time
    so far; on a pipe one line per status change, so CI logs show the build moves. Both on stderr."""

    def __init__(self, terminal: bool, label: str):
        self.terminal, self.label = terminal, label
        self.status: Any = None
        self.last: str | None = None
        self.started = 0.0

    def __enter__(self) -> "_StatusLine":
        import time

        self.started = time.monotonic()
        if self.terminal:
            from rich.console import Console

            self.status = Console(stderr=True).status(self.label)
            self.status.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.status is not None:
            self.status.stop()

    def update(self, request: Any) -> None:
        import time

        if self.status is not None:
            elapsed = int(time.monotonic() - self.started)
            self.status.update(f"{self.label}: {request.status} ({elapsed // 60}m {elapsed % 60:02d}s)")
        elif request.status != self.last and not request.finished:  # the final status heads the summary
            click.echo(f"{self.label}: {request.status}", err=True)
        self.last = request.status

    def note(self, message: str) -> None:
        if self.status is not None:
            self.status.console.print(message, markup=False, highlight=False)
        else:
            click.echo(message, err=True)


class _PackagingJob:
    """The request a packaging command sends, and what the user is told about it when the command returns
    before the request ends: --wait 0, a failure (the resume command), Ctrl-C (exit 130)."""

    def __init__(self, what: str, where: str, resume: str, as_json: bool):
        self.what, self.where, self.resume, self.as_json = what, where, resume, as_json
        self.id: str | None = None
        self.in_flight = False  # the request was sent and its answer (the id) has not arrived

    def __enter__(self) -> "_PackagingJob":
        return self

    def __exit__(self, kind: Any, exc: Any, traceback: Any) -> bool:
        if kind is KeyboardInterrupt:
            if self.id:
                click.echo(f"interrupted; {self.id} goes on in {self.where}. Follow it: {self.resume} {self.id}",
                           err=True)
            elif self.in_flight:
                click.echo(f"interrupted while the {self.what} was on its way; it may have started in {self.where}",
                           err=True)
            else:
                click.echo(f"interrupted before the {self.what} was sent", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        if isinstance(exc, ApexgenError):
            _emit_json_error(self.as_json, exc, self.id)
            if self.id and exc.exit_code != ExitCode.USAGE:
                click.echo(f"{self.id} may still be running in {self.where}: {self.resume} {self.id}", err=True)
        return False

    def not_waiting(self, status: str) -> None:
        click.echo(json.dumps({"id": self.id, "status": status}, indent=2) if self.as_json else self.id)
        click.echo(f"Not waiting. Report it with: {self.resume} {self.id}", err=True)


def _package_project(root: Path) -> Any:
    from generator.sfdx_project import SfdxProject

    return SfdxProject.load(root)


@package_group.command("create")
@click.option("--name", required=True, help="Package name; also its alias in sfdx-project.json packageAliases.")
@click.option("--type", "container", type=click.Choice(["Managed", "Unlocked"]), default="Managed", show_default=True)
@click.option("--description", help="Package description (also the directory's versionDescription).")
@click.option("--path", "directory", metavar="DIR", help="Package directory  [default: the default package directory]")
@click.option("--project-dir", type=click.Path(file_okay=False), help="The SFDX project  [default: .]")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document on stdout.")
@org_connection
@handle_errors
def package_create(name: str, container: str, description: str | None, directory: str | None,
                   as_json: bool, **options: Any) -> None:
    """Create a package (Package2) in the Dev Hub and record it in sfdx-project.json.

    The package directory gets "package", "versionName" ("ver 0.1") and "versionNumber"
    ("0.1.0.NEXT") where it has none, and packageAliases maps NAME to the new 0Ho id, as
    `sf package create` does. A managed package takes the project's namespace.

    \b
    Exit codes: 0 created; 1 the Dev Hub refused it; 2 bad input; 4 connection or login failed.
    """
    from generator.package import PackagingTooling, package_fields
    from generator.sfdx_project import default_directory_path

    try:
        project = _package_project(project_root(options["project_dir"]))
        path = directory or default_directory_path(project)
        project.check_new_package(name, path)
        fields = package_fields(name, container, description, project.namespace)
        tooling = PackagingTooling(_connect(options, project.api_version))
        package_id = tooling.create("Package2", fields)
        project.add_package(name, package_id, path, description)
        project.save()
    except ApexgenError as exc:
        _emit_json_error(as_json, exc, None)
        raise
    click.echo(f"Created {container.lower()} package {name} ({package_id}); recorded it on package directory "
               f"{path} and in packageAliases of {project.path.name}", err=True)
    if as_json:
        click.echo(json.dumps({"id": package_id, "name": name, "type": container, "path": path,
                               "namespace": project.namespace or None}, indent=2))
    else:
        click.echo(package_id)


@package_group.group("version")
def package_version() -> None:
    """2GP package versions in the Dev Hub: create, resume, promote."""


def _version_json(request: Any) -> dict[str, Any]:
    from generator.package import version_passed
    from generator.report import REQUIRED_COVERAGE

    return {
        "id": request.id,
        "status": request.status,
        "success": version_passed(request),
        "package": request.package_name,
        "packageId": request.package_id,
        "versionId": request.version_id,
        "subscriberPackageVersionId": request.subscriber_version_id,
        "version": request.version_number,
        "alias": request.alias,
        "installUrl": request.install_url,
        "codeCoverage": {"calculated": request.coverage_calculated, "percent": request.code_coverage,
                         "requiredPercent": REQUIRED_COVERAGE, "passed": request.passed_coverage_check},
        "errors": request.errors,
    }


def _version_summary(request: Any) -> str:
    from generator.report import REQUIRED_COVERAGE

    lines = [f"Package version request {request.id}: {request.status}"]
    if request.status == "Success":
        lines.append(f"Version: {request.package_name} {request.version_number} (alias {request.alias})")
        lines.append(f"Subscriber package version id: {request.subscriber_version_id}")
        lines.append(f"Install URL: {request.install_url}")
        if not request.coverage_calculated:
            lines.append("Code coverage: not calculated (validation skipped or coverage off); this version cannot "
                         "be promoted")
        elif request.passed_coverage_check:
            lines.append(f"Code coverage: {request.code_coverage:g}% (meets the {REQUIRED_COVERAGE:g}% needed to "
                         "promote)")
        else:
            shown = "unknown" if request.code_coverage is None else f"{request.code_coverage:g}%"
            lines.append(f"Code coverage: {shown} (below the {REQUIRED_COVERAGE:g}% needed to promote; this "
                         "version cannot be promoted)")
    for error in request.errors:
        lines.extend(f"  {line}" for line in error.splitlines())
    return "\n".join(lines) + "\n"


@package_version.command("create")
@click.option("--package", metavar="NAME|ID", help="The package  [default: the default package directory's]")
@click.option("--installation-key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File holding the installation key subscribers must enter (else SF_INSTALLATION_KEY).")
@click.option("--installation-key-bypass", is_flag=True, help="No installation key: anyone with the URL installs.")
@click.option("--code-coverage/--no-code-coverage", default=None,
              help="Run the package's Apex tests and calculate coverage (75% needed to promote)  [default: on, "
              "off with --skip-validation]")
@click.option("--skip-validation", is_flag=True,
              help="Skip validation and coverage: faster, but the version cannot be promoted.")
@click.option("--wait", default="60", show_default=True, metavar="DURATION",
              help="How long to wait: minutes, or 90s / 10m / 1h; 0 sends the request and returns its id.")
@click.option("--resume", metavar="REQUEST_ID", help="Wait for (and report) a version request already sent (08c...).")
@click.option("--skip-checks", is_flag=True, help="Build without the offline checks of apexgen check.")
@click.option("--deep-checks", is_flag=True, help="Run the deep checks of apexgen check first.")
@click.option("--project-dir", type=click.Path(file_okay=False), help="The SFDX project  [default: .]")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document on stdout.")
@org_connection
@handle_errors
def package_version_create(**options: Any) -> None:
    """Build a 2GP package version from the project in the Dev Hub and wait until it is built.

    The fast checks of `apexgen check` run first, as before a deploy. The package directory's
    versionName and versionNumber (M.m.p.NEXT) go into the version's descriptor; the project is
    converted to package.zip as for apexgen deploy. When the version
    is built, its subscriber package version id (04t), install URL and code coverage are printed
    and the alias NAME@M.m.p-BUILD is written to packageAliases in sfdx-project.json.

    \b
    Installation key: --installation-key-file FILE or SF_INSTALLATION_KEY, or --installation-key-bypass;
    never a flag value (it would land in shell history).
    Exit codes: 0 built (with 75% coverage, unless coverage was off); 1 checks failed, the request
    failed (every error is shown), coverage is under 75%, or --wait ran out (the resume command is printed);
    2 bad input; 4 connection or login failed; 130 interrupted (the request goes on in the Dev Hub).
    """
    from generator.deploy import format_finding, parse_wait
    from generator.package import (PackagingTooling, build_version_info, check_record_id, installation_key,
                                   record_version_alias, start_version, version_passed, wait_for_version)

    root = project_root(options["project_dir"])
    as_json = options["as_json"]
    with _PackagingJob("version request", "the Dev Hub", "apexgen package version create --resume", as_json) as job:
        wait_seconds = parse_wait(options["wait"])
        skip_validation = options["skip_validation"]
        if options["code_coverage"] and skip_validation:
            raise UsageError("--skip-validation and --code-coverage cannot be combined: coverage is calculated "
                             "while the version is validated")
        if options["skip_checks"] and options["deep_checks"]:
            raise UsageError("--skip-checks and --deep-checks cannot be combined")
        code_coverage = not skip_validation if options["code_coverage"] is None else options["code_coverage"]
        project = _package_project(root)
        if options["resume"]:
            check_record_id("--resume", options["resume"], "08c", "package version request")
            given = [flag for flag, value in (("--package", options["package"]),
                                              ("--installation-key-file", options["installation_key_file"]),
                                              ("--installation-key-bypass", options["installation_key_bypass"]),
                                              ("--skip-validation", skip_validation),
                                              ("--skip-checks", options["skip_checks"]),
                                              ("--deep-checks", options["deep_checks"]),
                                              ("--code-coverage", options["code_coverage"] is not None)) if value]
            if given:
                raise UsageError(f"--resume follows a request already sent; {given[0]} cannot be combined with it")
            job.id = options["resume"]
            tooling = PackagingTooling(_connect(options, project.api_version))
        else:
            key = installation_key(options["installation_key_file"], options["installation_key_bypass"],
                                   dict(os.environ))
            checks = "skip" if options["skip_checks"] else "deep" if options["deep_checks"] else "auto"
            build = build_version_info(root, project, options["package"], checks)
            for warning in build.check_warnings:
                click.echo(f"check: {format_finding(warning)}", err=True)
            for note in build.notes:
                click.echo(note, err=True)
            tooling = PackagingTooling(_connect(options, build.api_version))
            job.in_flight = True
            job.id = start_version(tooling, build, key, code_coverage=code_coverage, skip_validation=skip_validation)
            job.in_flight = False
            validation = "validation skipped" if skip_validation else (
                "code coverage on" if code_coverage else "code coverage off")
            click.echo(f"Package version request {job.id} started: {build.directory.package} "
                       f"{build.directory.version_number}, {build.component_count} components, {validation}, "
                       f"{'installation key set' if key else 'no installation key'}", err=True)
        if wait_seconds == 0:
            job.not_waiting("Queued")
            return
        with _StatusLine(sys.stderr.isatty() and not as_json, f"Version request {job.id}") as status:
            request = wait_for_version(tooling, job.id, wait_seconds=wait_seconds, on_progress=status.update,
                                       on_retry=status.note)
    if record_version_alias(project, request):
        click.echo(f"Wrote {request.alias}: {request.subscriber_version_id} to packageAliases of "
                   f"{project.path.name}", err=True)
    if as_json:
        click.echo(json.dumps(_version_json(request), indent=2))
    else:
        click.echo(_version_summary(request), nl=False)
    sys.exit(ExitCode.OK if version_passed(request) else ExitCode.FINDINGS)


@package_version.command("promote")
@click.argument("version", metavar="VERSION")
@click.option("--project-dir", type=click.Path(file_okay=False), help="The SFDX project  [default: .]")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document on stdout.")
@org_connection
@handle_errors
def package_version_promote(version: str, as_json: bool, **options: Any) -> None:
    """Release a package version so production orgs can install it.

    VERSION is an alias of sfdx-project.json packageAliases (NAME@1.0.0-1) or a 04t id. The Dev
    Hub refuses versions under 75% code coverage or built without validation.

    \b
    Exit codes: 0 released (or released before); 1 the Dev Hub refused; 2 bad input;
    4 connection or login failed.
    """
    from generator.package import PackagingTooling, promote_version

    try:
        project = _package_project(project_root(options["project_dir"]))
        subscriber_id = project.resolve(version, "04t", "package version")
        tooling = PackagingTooling(_connect(options, project.api_version))
        promoted = promote_version(tooling, subscriber_id)
    except ApexgenError as exc:
        _emit_json_error(as_json, exc, None)
        raise
    state = "was already released" if promoted.already_released else "is released"
    click.echo(f"{promoted.package_name} {promoted.version_number} ({subscriber_id}) {state}", err=True)
    if as_json:
        click.echo(json.dumps({"subscriberPackageVersionId": subscriber_id, "versionId": promoted.version_id,
                               "package": promoted.package_name, "version": promoted.version_number,
                               "released": True, "alreadyReleased": promoted.already_released}, indent=2))
    else:
        click.echo(subscriber_id)


def _upload_summary(upload: Any) -> str:
    lines = [f"Package upload {upload.id}: {upload.status}"]
    if upload.status == "SUCCESS":
        state = f" ({upload.release_state})" if upload.release_state else ""
        lines.append(f"Version: {upload.version_number or 'unknown'}{state}")
        lines.append(f"Package version id: {upload.version_id}")
        lines.append(f"Install URL: {upload.install_url}")
    for error in upload.errors:
        lines.extend(f"  {line}" for line in error.splitlines())
    return "\n".join(lines) + "\n"


@package_group.command("upload")
@click.option("--name", "version_name", metavar="VERSION_NAME", help="Name of the new version, e.g. \"Spring '26\".")
@click.option("--release", is_flag=True, help="A released (managed-released) version; default: a beta.")
@click.option("--version", "major_minor", metavar="M.m", help="Major and minor number; the patch number is assigned.")
@click.option("--package-id", metavar="033...", help="The package  [default: looked up by the project's namespace]")
@click.option("--description", help="Version description.")
@click.option("--installation-key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File holding the installation key (else SF_INSTALLATION_KEY when set; else none).")
@click.option("--wait", default="60", show_default=True, metavar="DURATION",
              help="How long to wait: minutes, or 90s / 10m / 1h; 0 sends the upload and returns its id.")
@click.option("--resume", metavar="UPLOAD_ID", help="Wait for (and report) an upload already sent (0HD...).")
@click.option("--project-dir", type=click.Path(file_okay=False), help="The SFDX project  [default: .]")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document on stdout.")
@org_connection
@handle_errors
def package_upload(**options: Any) -> None:
    """Upload a 1GP managed package version from the packaging org and wait until it is built.

    The packaging org runs the package's Apex tests; a failing test or coverage under 75% fails the
    upload, and every error it gives is shown. A beta installs in sandboxes and developer orgs only.

    \b
    Exit codes: 0 uploaded; 1 the upload failed or --wait ran out (the resume command is printed);
    2 bad input; 4 connection or login failed; 130 interrupted (the upload goes on in the org).
    """
    from generator.connect import read_secret
    from generator.convert import DEFAULT_API_VERSION
    from generator.deploy import parse_wait
    from generator.package import (INSTALL_KEY_VARIABLE, PackagingTooling, check_record_id, find_metadata_package,
                                   parse_major_minor, start_upload, wait_for_upload)

    root = project_root(options["project_dir"])
    as_json = options["as_json"]
    with _PackagingJob("upload request", "the org", "apexgen package upload --resume", as_json) as job:
        wait_seconds = parse_wait(options["wait"])
        version = parse_major_minor(options["major_minor"])
        # The packaging org of a 1GP package need not be built from an SFDX project: the project is optional.
        project = _package_project(root) if (root / "sfdx-project.json").is_file() else None
        api_version = project.api_version if project else DEFAULT_API_VERSION
        namespace = project.namespace if project else ""
        if options["resume"]:
            check_record_id("--resume", options["resume"], "0HD", "package upload request")
            given = [flag for flag in ("version_name", "release", "major_minor", "package_id", "description",
                                       "installation_key_file") if options[flag]]
            if given:
                raise UsageError(f"--resume follows an upload already sent; --{given[0].replace('_', '-')} cannot "
                                 "be combined with it")
            job.id = options["resume"]
            tooling = PackagingTooling(_connect(options, api_version))
        else:
            if not options["version_name"]:
                raise UsageError("--name: name the new version (or pass --resume UPLOAD_ID)")
            if options["package_id"]:
                check_record_id("--package-id", options["package_id"], "033", "package")
            password = None
            if options["installation_key_file"] is not None or INSTALL_KEY_VARIABLE in os.environ:
                password = read_secret(INSTALL_KEY_VARIABLE, dict(os.environ), options["installation_key_file"],
                                       None, "--installation-key-file")
            if not options["package_id"] and not namespace:
                raise UsageError("--package-id: pass the package's 033 id, or run in a project whose "
                                 "sfdx-project.json has the package's namespace")
            tooling = PackagingTooling(_connect(options, api_version))
            package_id = options["package_id"] or find_metadata_package(tooling, namespace)
            job.in_flight = True
            job.id = start_upload(tooling, package_id, options["version_name"], release=options["release"],
                                  version=version, description=options["description"], password=password)
            job.in_flight = False
            click.echo(f"Package upload {job.id} started: {options['version_name']!r} of {package_id}, "
                       f"{'released' if options['release'] else 'beta'}"
                       + (f", version {version[0]}.{version[1]}" if version else ""), err=True)
        if wait_seconds == 0:
            job.not_waiting("QUEUED")
            return
        with _StatusLine(sys.stderr.isatty() and not as_json, f"Upload {job.id}") as status:
            upload = wait_for_upload(tooling, job.id, wait_seconds=wait_seconds, on_progress=status.update,
                                     on_retry=status.note)
    if as_json:
        click.echo(json.dumps({"id": upload.id, "status": upload.status, "success": upload.status == "SUCCESS",
                               "packageId": upload.package_id, "subscriberPackageVersionId": upload.version_id,
                               "version": upload.version_number, "releaseState": upload.release_state,
                               "installUrl": upload.install_url, "errors": upload.errors}, indent=2))
    else:
        click.echo(_upload_summary(upload), nl=False)
    sys.exit(ExitCode.OK if upload.status == "SUCCESS" else ExitCode.FINDINGS)
