"""The apexgen command line: the only module that imports click.

Commands call the library, then turn its results into output and exit codes. Data goes to stdout,
status and progress to stderr. Library modules are imported inside commands so that
``apexgen --help`` stays fast.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable

import click

from generator import __version__
from generator.errors import ApexgenError, ExitCode

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
