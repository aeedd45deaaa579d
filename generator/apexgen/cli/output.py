"""Every command's ``--json`` document: the sf CLI's envelope, for a success and for a failure.

sf prints one JSON document on stdout (sf-plugins-core ``SfCommand.toSuccessJson`` and
``SfCommandError.toJson``), and so does apexgen, for every command and every exit code:

* success, or a run that ended with findings: ``{"status": <exit code>, "result": ..., "warnings": [...]}``
* failure (bad flag, bad spec, login failed, a bug, Ctrl-C): ``{"name", "message", "exitCode", "status",
  "code", "commandName", "context", "warnings"}``, plus ``"data"`` where the failure has something to add
  (the id of a deploy that is still running, the files a generate would have changed).

JSON mode is ``--json`` or the environment variable ``SF_CONTENT_TYPE=JSON`` (any case), as with sf.
Warnings are what a command also says on stderr as ``Warning: ...``; the envelope lists them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from apexgen.errors import ExitCode, one_line

CONTENT_TYPE_VARIABLE = "SF_CONTENT_TYPE"
_JSON_KEY = "apexgen.json"
_WARNINGS_KEY = "apexgen.warnings"
_COMMAND_KEY = "apexgen.command"


def json_from_environment() -> bool:
    return os.environ.get(CONTENT_TYPE_VARIABLE, "").upper() == "JSON"


def json_requested(args: Sequence[str]) -> bool:
    """Whether a command line asks for JSON: ``--json`` before any ``--``, or SF_CONTENT_TYPE=JSON."""
    options = list(args)[: list(args).index("--")] if "--" in args else list(args)
    return "--json" in options or json_from_environment()


def _root_meta() -> dict[str, Any]:
    context = click.get_current_context(silent=True)
    return context.find_root().meta if context is not None else {}


def remember_command_line(context: click.Context, args: Sequence[str]) -> None:
    """Called by the root group with the whole command line before it is parsed, so that a usage error is
    reported as JSON too, naming its command (``package version create``) as sf's ``commandName`` does."""
    context.meta[_JSON_KEY] = json_requested(args)
    words: list[str] = []
    command: click.Command | None = context.command
    for arg in args:
        if arg.startswith("-"):
            continue  # the root group's own flags (--debug) come before the command
        if not isinstance(command, click.Group) or (command := command.get_command(context, arg)) is None:
            break
        words.append(arg)
    context.meta[_COMMAND_KEY] = " ".join(words)


def json_mode() -> bool:
    return bool(_root_meta().get(_JSON_KEY)) or json_from_environment()


def warn(message: str) -> None:
    """A warning: on stderr now, and in the envelope's ``warnings``."""
    _root_meta().setdefault(_WARNINGS_KEY, []).append(message)
    click.echo(f"Warning: {message}", err=True)


def _warnings() -> list[str]:
    return list(_root_meta().get(_WARNINGS_KEY, []))


def success_document(result: Any, status: int = ExitCode.OK) -> dict[str, Any]:
    return {"status": int(status), "result": result, "warnings": _warnings()}


def failure_document(name: str, message: str, exit_code: int, data: Any = None) -> dict[str, Any]:
    command = _root_meta().get(_COMMAND_KEY, "")
    document: dict[str, Any] = {
        "name": name,
        "message": message,
        "exitCode": int(exit_code),
        "status": int(exit_code),
        "code": str(int(exit_code)),
        "commandName": command,
        "context": command,
        "warnings": _warnings(),
    }
    if data is not None:
        document["data"] = data
    return document


def _echo(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def echo_result(result: Any, status: int = ExitCode.OK) -> None:
    """The success envelope on stdout; ``status`` is the exit code the command then exits with."""
    _echo(success_document(result, status))


def finish(result: Any, status: int, as_json: bool) -> NoReturn:
    """Print ``result`` in its envelope when JSON is on, then exit with ``status``."""
    if as_json:
        echo_result(result, status)
    sys.exit(int(status))


def echo_failure_json(name: str, message: str, exit_code: int, data: Any = None) -> None:
    """The failure envelope on stdout, when JSON is on."""
    if json_mode():
        _echo(failure_document(name, message, exit_code, data))


def echo_failure(name: str, message: str, exit_code: int, data: Any = None, label: str = "") -> None:
    """The failure envelope on stdout when JSON is on; the message as one line on stderr either way
    (after ``label:``, when there is one)."""
    echo_failure_json(name, message, exit_code, data)
    click.echo(one_line(f"{label}: {message}" if label else message), err=True)


def interrupted(message: str, data: Any = None) -> NoReturn:
    """Ctrl-C: ``message`` says what goes on in the org; exit 130."""
    echo_failure("Interrupted", message, ExitCode.INTERRUPTED, data)
    sys.exit(ExitCode.INTERRUPTED)
