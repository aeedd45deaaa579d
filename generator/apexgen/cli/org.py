"""What commands that talk to an org share: logging in, with prompts on a terminal."""

from __future__ import annotations

import sys
from typing import Any

import click

from apexgen.errors import UsageError


def connect_org(options: dict[str, Any], api_version: str) -> Any:
    from apexgen.org.connect import LoginOptions, connect

    def prompt(variable: str) -> str:
        if not sys.stdin.isatty():
            raise UsageError(f"set the environment variable {variable} (asked for only on a terminal)")
        return str(click.prompt(variable, hide_input=True, err=True))

    def log(message: str) -> None:
        if options["verbose"]:
            click.echo(f"[apexgen] {message}", err=True)

    login = LoginOptions(
        target_org=options["target_org"],
        instance_url=options["instance_url"],
        username=options["username"],
        client_id=options["client_id"],
        jwt_key_file=options["jwt_key_file"],
        client_secret_file=options["client_secret_file"],
        login_url=options["login_url"],
        api_version=api_version,
        http_timeout=options["http_timeout"],
    )
    connection = connect(login, prompt=prompt, log=log)
    if connection.can_reauthenticate:
        click.echo(f"Connected to {connection.instance_url} ({connection.method})", err=True)
    else:  # nothing was checked yet: the org judges the token on the first call
        click.echo(f"Using the {connection.method} for {connection.instance_url}", err=True)
    return connection
