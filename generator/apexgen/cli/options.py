"""Options that several commands share, each declared here once, and the project folder they name."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from apexgen.cli.output import json_from_environment

Decorator = Callable[[Any], Any]  # click's option decorators are generic; any command goes in and out

project_dir_option = click.option(
    "--project-dir", type=click.Path(file_okay=False), help="The SFDX project  [default: .]"
)
package_dir_option = click.option(
    "--package-dir",
    "package_dirs",
    multiple=True,
    metavar="PATH",
    help="Only this package directory of sfdx-project.json (repeatable)  [default: all of them, as sf deploys]",
)


class _Seconds(click.ParamType):  # type: ignore[type-arg]  # generic in newer click only
    """A finite number of seconds above 0: nan and inf parse as floats, but no timeout means them."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = float(click.FLOAT.convert(value, param, ctx))
        if not math.isfinite(number) or number <= 0:
            self.fail(f"{value!r} is not a number of seconds above 0", param, ctx)
        return number


SECONDS = _Seconds()

spec_option = click.option(
    "--spec",
    "spec_path",
    default="apexgen.toml",
    show_default=True,
    metavar="FILE",  # no click.Path check: load_spec says in one line what is wrong with the file
    help="The spec; the project root is the folder that holds it.",
)


def json_option(what: str) -> Decorator:
    """``--json``: print ``what`` in sf's JSON envelope on stdout instead of text (cli/output.py); on also when
    SF_CONTENT_TYPE=JSON, as with sf."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=lambda context, parameter, value: bool(value) or json_from_environment(),
        help=f"Print {what} as one JSON document on stdout: sf's envelope {{status, result, warnings}} "
        "(also with SF_CONTENT_TYPE=JSON).",
    )


def wait_option(default: str, zero: str | None) -> Decorator:
    """``--wait``: how long to wait for the org; ``zero`` says what 0 does, where it is allowed."""
    note = f"; 0 {zero}" if zero else ""
    return click.option(
        "--wait",
        default=default,
        show_default=True,
        metavar="DURATION",
        help=f"How long to wait: minutes, or 90s / 10m / 1h{note}.",
    )


def project_root(directory: str | None) -> Path:
    return Path(directory or ".").resolve()


def apply(command: Callable[..., Any], options: list[Decorator]) -> Any:
    """``command`` with ``options`` in the order given (as if stacked above it, first on top)."""
    for option in reversed(options):
        command = option(command)
    return command


TEST_LEVEL_CHOICES = ["NoTestRun", "RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg"]


def report_options(command: Callable[..., Any]) -> Any:
    """Where a deploy or test run reports: one JSON document on stdout, JUnit and Cobertura files."""
    return apply(
        command,
        [
            json_option("the result"),
            click.option(
                "--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write the test results as JUnit XML."
            ),
            click.option(
                "--coverage",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Write code coverage as Cobertura XML.",
            ),
        ],
    )


def org_connection(command: Callable[..., Any]) -> Any:
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
        click.option(
            "--jwt-key-file", type=click.Path(dir_okay=False, path_type=Path), help="Private key (PEM) for JWT bearer."
        ),
        click.option(
            "--client-secret-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="File holding the consumer secret.",
        ),
        click.option(
            "--login-url",
            default="https://login.salesforce.com",
            show_default=True,
            help="Where to log in: https://test.salesforce.com for a sandbox, or the org's My Domain URL.",
        ),
        click.option(
            "--http-timeout",
            type=SECONDS,
            default=60.0,
            show_default=True,
            help="Seconds to wait for each answer from the org.",
        ),
        click.option("--verbose", "-v", is_flag=True, help="Log each call to the org on stderr (never a secret)."),
    ]
    return apply(command, options)


def models_connection(command: Callable[..., Any]) -> Any:
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
            type=SECONDS,
            envvar="APEXGEN_HTTP_TIMEOUT",
            show_envvar=True,
            help="Seconds to wait for each answer  [default: 120, as long as an Apex callout may wait]",
        ),
        json_option("the raw response"),
    ]
    return apply(command, options)
