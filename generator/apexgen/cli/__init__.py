"""The apexgen command line: the only package that imports click.

Commands call the library, then turn its results into output and exit codes. Data goes to stdout,
status and progress to stderr. Each command group lives in a module of its own; library modules are
imported inside commands so that ``apexgen --help`` stays fast. Errors meet one boundary, here: an
ApexgenError is one line on stderr with its exit code, anything else is a bug (exit 123).
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from apexgen import __version__
from apexgen.cli.check import check, tools
from apexgen.cli.convert import convert
from apexgen.cli.deploy import deploy, test_command
from apexgen.cli.examples import add_examples
from apexgen.cli.models import models
from apexgen.cli.output import echo_failure, echo_failure_json, remember_command_line
from apexgen.cli.package import package_group
from apexgen.cli.project import generate, init
from apexgen.errors import EXIT_CODE_MEANINGS, ApexgenError, ExitCode

DEBUG_VARIABLE = "APEXGEN_DEBUG"
EXIT_CODES_HELP = "\b\nExit codes:\n" + "".join(
    f"  {int(code):<4} {meaning}\n" for code, meaning in EXIT_CODE_MEANINGS.items()
)


class ApexgenGroup(click.Group):
    """The root group: every command runs inside its error boundary, which reports each failure as one
    line on stderr and, in JSON mode, as sf's error document on stdout (cli/output.py)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        remember_command_line(ctx, args)
        try:
            return super().parse_args(ctx, args)
        except click.ClickException as exc:
            _usage_failure(ctx, exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise  # --help, --version, ctx.exit
        except click.ClickException as exc:  # click's usage errors: bad flag, bad value (exit 2)
            _usage_failure(ctx, exc)
        except click.exceptions.Abort:  # a prompt answered with Ctrl-C or end of input
            echo_failure("Interrupted", "interrupted", ExitCode.INTERRUPTED)
            ctx.exit(ExitCode.INTERRUPTED)
        except ApexgenError as exc:
            echo_failure(type(exc).__name__, str(exc), exc.exit_code, exc.data, label="error")
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            echo_failure("Interrupted", "interrupted", ExitCode.INTERRUPTED)
            ctx.exit(ExitCode.INTERRUPTED)
        except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
            if (ctx.obj or {}).get("debug"):
                import traceback  # only here: it costs --help a tenth of its start-up

                traceback.print_exc(file=sys.stderr)
            message = (
                f"internal error: {type(exc).__name__} in apexgen {__version__}; please report it "
                f"(run again with --debug or {DEBUG_VARIABLE}=1 for the traceback)"
            )
            echo_failure("InternalError", message, ExitCode.INTERNAL)
            ctx.exit(ExitCode.INTERNAL)


def _usage_failure(ctx: click.Context, exc: click.ClickException) -> NoReturn:
    """click's own message (with its usage line) on stderr; in JSON mode also sf's error document."""
    # The name is click's: NoSuchOption, BadParameter, MissingParameter, UsageError.
    echo_failure_json(type(exc).__name__, exc.format_message(), exc.exit_code)
    exc.show()
    ctx.exit(exc.exit_code)


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
add_examples(main)
