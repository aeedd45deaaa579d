"""What commands that talk to an org share: logging in, with prompts on a terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from apexgen.cli.options import ORG_HTTP_TIMEOUT
from apexgen.errors import UsageError


def _prompt(variable: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError(f"set the environment variable {variable} (asked for only on a terminal)")
    return str(click.prompt(variable, hide_input=True, err=True))


def login_options(options: dict[str, Any], root: Path | None) -> Any:
    """The connection options of ``options`` (cli/options.py org_connection) for the project at ``root``."""
    from apexgen.org.connect import LoginOptions

    dev_hub = "target_dev_hub" in options  # cli/options.py dev_hub_connection
    return LoginOptions(
        target_org=options["target_dev_hub"] if dev_hub else options["target_org"],
        dev_hub=dev_hub,
        instance_url=options["instance_url"],
        username=options["username"],
        client_id=options["client_id"],
        jwt_key_file=options["jwt_key_file"],
        client_secret_file=options["client_secret_file"],
        login_url=options["login_url"],
        http_timeout=options["http_timeout"] or ORG_HTTP_TIMEOUT,
        project_root=root,
    )


class OrgLogin:
    """The org a command talks to. Made first, before any other work, so that missing credentials stop the
    command at once (not after a deep check and a conversion); ``connect`` logs in when the org is needed."""

    def __init__(self, options: dict[str, Any], root: Path | None):
        from apexgen.org.connect import plan_login

        self.verbose = bool(options["verbose"])
        self.options = login_options(options, root)
        self.plan = plan_login(self.options, prompt=_prompt)

    def connect(self, api_version: str) -> Any:
        from apexgen.org.connect import open_connection

        def log(message: str) -> None:
            if self.verbose:
                click.echo(f"[apexgen] {message}", err=True)

        self.options.api_version = api_version
        connection = open_connection(self.plan, self.options, log)
        if connection.can_reauthenticate:
            click.echo(f"Connected to {connection.instance_url} ({connection.method})", err=True)
        else:  # nothing was checked yet: the org judges the token on the first call
            click.echo(f"Using the {connection.method} for {connection.instance_url}", err=True)
        return connection
