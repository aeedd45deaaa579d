"""The apexgen command line: the only package that imports click.

Commands call the library, then turn its results into output and exit codes. Data goes to stdout,
status and progress to stderr. Each command group lives in a module of its own; library modules are
imported inside commands so that ``apexgen --help`` stays fast. Errors meet one boundary, here: an
ApexgenError is one line on stderr with its exit code, anything else is a bug (exit 123).
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click

from apexgen import __version__
from apexgen.cli.check import check, tools
from apexgen.cli.convert import convert
from apexgen.cli.deploy import deploy, test_command
from apexgen.cli.models import models
from apexgen.cli.package import package_group
from apexgen.cli.project import generate, init
from apexgen.errors import EXIT_CODE_MEANINGS, ApexgenError, ExitCode, one_line

DEBUG_VARIABLE = "APEXGEN_DEBUG"
EXIT_CODES_HELP = "\b\nExit codes:\n" + "".join(
    f"  {int(code):<4} {meaning}\n" for code, meaning in EXIT_CODE_MEANINGS.items()
)


class ApexgenGroup(click.Group):
    """The root group: every command runs inside its error boundary."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise  # click's own: usage errors (exit 2), --help, sys.exit
        except ApexgenError as exc:
            click.echo(f"error: {one_line(str(exc))}", err=True)  # values a file holds are echoed: keep one line
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(ExitCode.INTERRUPTED)
        except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
            if (ctx.obj or {}).get("debug"):
                traceback.print_exc(file=sys.stderr)
            click.echo(
                f"internal error: {type(exc).__name__} in apexgen {__version__}; please report it "
                f"(run again with --debug or {DEBUG_VARIABLE}=1 for the traceback)",
                err=True,
            )
            ctx.exit(ExitCode.INTERNAL)


@click.group(cls=ApexgenGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="apexgen")
@click.option("--debug", is_flag=True, envvar=DEBUG_VARIABLE, help="On an internal error, print the traceback.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Turn a short spec into a tested Salesforce Models API integration.

    apexgen writes Apex services, Flow actions and LWC controllers over aiplatform.ModelsAPI, with
    the Apex tests that cover them, checks them offline with Salesforce's own tools, and deploys them.
    """
    ctx.obj = {"debug": debug}


for command in (init, generate, models, check, tools, convert, deploy, test_command, package_group):
    main.add_command(command)
