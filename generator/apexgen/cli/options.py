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
    "--project-dir",
    type=click.Path(file_okay=False),
    help="The SFDX project  [default: the one the current folder is in, found as sf finds it]",
)


def package_dir_option(short: str) -> Decorator:
    """``--package-dir`` with the short flag sf gives its source directory on that command (-d, -p)."""
    return click.option(
        "--package-dir",
        short,
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
    metavar="FILE",  # no click.Path check: load_spec says in one line what is wrong with the file
    help="The spec; the project root is the folder that holds it  [default: apexgen.toml of the project]",
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
        "-w",
        default=default,
        show_default=True,
        metavar="DURATION",
        help=f"How long to wait: minutes, or 90s / 10m / 1h{note}.",
    )


def project_root(directory: str | None) -> Path:
    """``--project-dir`` as given; without it the SFDX project the current folder is in, found as sf finds it
    (the nearest folder upwards with sfdx-project.json), else the current folder."""
    if directory is not None:
        return Path(directory).resolve()
    from apexgen.project.sfdx_project import find_project_root

    here = Path.cwd()
    return find_project_root(here) or here


def spec_path_of(spec: str | None, project_dir: str | None) -> str:
    """``--spec`` as given, else the project's apexgen.toml (named relative to the current folder, as messages show it)."""
    import os

    return spec if spec is not None else os.path.relpath(project_root(project_dir) / "apexgen.toml")


def apply(command: Callable[..., Any], options: list[Decorator]) -> Any:
    """``command`` with ``options`` in the order given (as if stacked above it, first on top)."""
    for option in reversed(options):
        command = option(command)
    return command


TEST_LEVEL_CHOICES = ["NoTestRun", "RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg"]


def test_level_option(levels: list[str]) -> Decorator:
    """sf's ``--test-level``/``-l``; any case is taken (runlocaltests), as the Metadata API's names are long."""
    return click.option(
        "--test-level",
        "-l",
        type=click.Choice(levels, case_sensitive=False),
        default="RunSpecifiedTests",
        show_default=True,
        metavar="LEVEL",
        help=f"{', '.join(levels[:-1])} or {levels[-1]}, in any case.",
    )


class _ListOption(click.Option):
    """A repeatable option that, as an sf flag with ``multiple``, also takes the words after it: ``-t A B``
    is ``-t A -t B``. For commands without arguments only (the words would be theirs)."""

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        option = parser._long_opt[self.opts[0]]  # click's parser has no public hook for this
        take_one = option.process

        def take_following(value: Any, state: Any) -> None:
            take_one(value, state)
            while state.rargs and not state.rargs[0].startswith("-"):
                take_one(state.rargs.pop(0), state)

        option.process = take_following


tests_option = click.option(
    "--tests",
    "-t",
    cls=_ListOption,
    multiple=True,
    metavar="NAMES",
    help="Test classes to run: -t A -t B, -t A B or -t A,B, as sf takes them  [default: the project's @IsTest classes]",
)


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


# The connection options, declared once: deploy, test and package take all of them; models the ones the
# Models API's OAuth client credentials use. The same names and environment variables everywhere.
_TARGET_ORG = click.option(
    "--target-org",
    "-o",
    metavar="ALIAS",
    help="An org the sf CLI is logged in to (sf org display). Without any login option: SF_TARGET_ORG, "
    "else target-org of the project's .sf/config.json, else of ~/.sf/config.json, as sf resolves it.",
)
_INSTANCE_URL = click.option(
    "--instance-url",
    metavar="URL",
    envvar="SF_INSTANCE_URL",
    show_envvar=True,
    help="The org's My Domain URL: with the access token in SF_ACCESS_TOKEN, or where OAuth client "
    "credentials (--client-id) are asked for.",
)
_USERNAME = click.option(
    "--username",
    help="Log in as this user: SOAP login with SF_PASSWORD and SF_SECURITY_TOKEN (asked for on a "
    "terminal), or JWT bearer with --client-id and --jwt-key-file.",
)
_CLIENT_ID = click.option(
    "--client-id",
    metavar="KEY",
    envvar="SF_CLIENT_ID",
    show_envvar=True,
    help="Consumer key of the connected or External Client App: JWT bearer with --jwt-key-file, else OAuth "
    "client credentials with SF_CLIENT_SECRET or --client-secret-file at the My Domain (--instance-url).",
)
_JWT_KEY_FILE = click.option(
    "--jwt-key-file", type=click.Path(dir_okay=False, path_type=Path), help="Private key (PEM) for JWT bearer."
)
_CLIENT_SECRET_FILE = click.option(
    "--client-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the consumer secret; else SF_CLIENT_SECRET.",
)
_LOGIN_URL = click.option(
    "--login-url",
    default="https://login.salesforce.com",
    show_default=True,
    help="Where --username and JWT bearer log in: https://test.salesforce.com for a sandbox, or the org's My Domain.",
)
_HTTP_TIMEOUT = click.option(
    "--http-timeout",
    type=SECONDS,
    envvar="APEXGEN_HTTP_TIMEOUT",
    show_envvar=True,
    help="Seconds to wait for each answer  [default: 60 from the org, 120 from the Models API, as long as an "
    "Apex callout may wait]",
)
# sf's --target-dev-hub (sf-plugins-core requiredHub, -v) for the commands that talk to the Dev Hub
_TARGET_DEV_HUB = click.option(
    "--target-dev-hub",
    "-v",
    metavar="ALIAS",
    help="The Dev Hub, an org the sf CLI is logged in to (sf org display). Without any login option: "
    "SF_TARGET_DEV_HUB, else target-dev-hub of the project's .sf/config.json, else of ~/.sf/config.json, as sf "
    "resolves it.",
)
# no -v: sf's --verbose has no short form, and its -v is the Dev Hub
_VERBOSE = click.option("--verbose", is_flag=True, help="Log each call to the org on stderr (never a secret).")
ORG_HTTP_TIMEOUT = 60.0


def org_connection(command: Callable[..., Any], org: Decorator = _TARGET_ORG) -> Any:
    """How to reach the org; secrets come from environment variables, files or a prompt, never from flags."""
    options = [
        org,
        _INSTANCE_URL,
        _USERNAME,
        _CLIENT_ID,
        _JWT_KEY_FILE,
        _CLIENT_SECRET_FILE,
        _LOGIN_URL,
        _HTTP_TIMEOUT,
        _VERBOSE,
    ]
    return apply(command, options)


def dev_hub_connection(command: Callable[..., Any]) -> Any:
    """How to reach the Dev Hub (2GP): as org_connection, with sf's --target-dev-hub (-v) and its default."""
    return org_connection(command, _TARGET_DEV_HUB)


def models_connection(command: Callable[..., Any]) -> Any:
    """The options every command that calls the Models API shares: OAuth client credentials at the org's My
    Domain (named, or that of the sf CLI's org); the consumer secret is never one of them."""
    options = [
        project_dir_option,  # where the project's .sf/config.json names sf's default org
        _TARGET_ORG,
        _INSTANCE_URL,
        _CLIENT_ID,
        _CLIENT_SECRET_FILE,
        click.option(
            "--api-url",
            metavar="URL",
            envvar="APEXGEN_MODELS_API_URL",
            show_envvar=True,
            help="Base URL of the Models REST API  [default: https://api.salesforce.com/einstein/platform/v1]",
        ),
        _HTTP_TIMEOUT,
        json_option("the raw response"),
    ]
    return apply(command, options)
