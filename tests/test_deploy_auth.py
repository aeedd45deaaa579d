"""Connections (every login method), secrets kept out of every output, and Ctrl-C during a deploy."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from apexgen.cli import main
from tests.fakes.clock import clock_for
from tests.fakes.org import FakeOrg, Scenario, deploy_command, running_org, write_sample_project
from tests.fakes.terminal import interrupt_when

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def org(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrg]:
    with running_org(FakeOrg(clock_for(request, monkeypatch))) as (fake, server):
        fake.ca_bundle = server.ca_bundle  # type: ignore[attr-defined]
        yield fake
    assert fake.protocol_errors == []


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_sample_project(tmp_path / "project")


@pytest.fixture
def rsa_key(tmp_path: Path, org: FakeOrg) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    org.jwt_public_key = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = tmp_path / "server.key"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


@pytest.fixture
def fake_sf(tmp_path: Path, org: FakeOrg) -> Path:
    """An ``sf`` on PATH that answers ``sf org display --json`` like the real CLI for the alias 'ci-org'."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answer = json.dumps(
        {
            "status": 0,
            "result": {
                "username": org.username,
                "accessToken": org.access_token,
                "instanceUrl": org.url,
                "connectedStatus": "Connected",
            },
        }
    )
    failure = json.dumps(
        {"status": 1, "name": "NamedOrgNotFoundError", "message": "No authorization information found for nope."}
    )
    script = bin_dir / "sf"
    script.write_text(f"#!/bin/sh\nif [ \"$4\" = ci-org ]; then echo '{answer}'; else echo '{failure}'; exit 1; fi\n")
    script.chmod(0o755)
    return bin_dir


def run(org: FakeOrg, project: Path, args: list[str], env: dict[str, str]) -> Result:
    """apexgen deploy with only the credentials in ``env`` (others in the environment are unset)."""
    environment = {
        "REQUESTS_CA_BUNDLE": org.ca_bundle,
        "SF_ACCESS_TOKEN": None,
        "SF_PASSWORD": None,  # type: ignore[attr-defined]
        "SF_SECURITY_TOKEN": None,
        "SF_CLIENT_SECRET": None,
        "SF_TARGET_ORG": None,
        "SF_INSTANCE_URL": None,
        "SF_CLIENT_ID": None,
        **env,
    }
    return CliRunner().invoke(main, ["deploy", "--project-dir", str(project), "--skip-checks", *args], env=environment)


def login_cases(org: FakeOrg, rsa_key: Path, fake_sf: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    return {
        "access token": (["--instance-url", org.url], {"SF_ACCESS_TOKEN": org.access_token}),
        "username/password": (
            ["--username", org.username, "--login-url", org.url],
            {"SF_PASSWORD": org.password, "SF_SECURITY_TOKEN": org.security_token},
        ),
        "JWT": (
            [
                "--client-id",
                org.client_id,
                "--jwt-key-file",
                str(rsa_key),
                "--username",
                org.username,
                "--login-url",
                org.url,
            ],
            {},
        ),
        "client credentials": (
            ["--client-id", org.client_id, "--login-url", org.url],
            {"SF_CLIENT_SECRET": org.client_secret},
        ),
        "sf CLI org": (["--target-org", "ci-org"], {"PATH": f"{fake_sf}{os.pathsep}{os.environ['PATH']}"}),
    }


@pytest.mark.parametrize("method", ["access token", "username/password", "JWT", "client credentials", "sf CLI org"])
def test_each_login_method_deploys(org: FakeOrg, project: Path, rsa_key: Path, fake_sf: Path, method: str) -> None:
    args, env = login_cases(org, rsa_key, fake_sf)[method]
    result = run(org, project, args, env)
    assert result.exit_code == 0, result.output
    said = f"Using the access token for {org.url}" if method == "access token" else f"Connected to {org.url}"
    assert said in result.stderr
    assert result.stdout.startswith("Deploy 0Af000000000001AAA: Succeeded")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--username", "deployer@example.com"],
            {"SF_PASSWORD": "wrong", "SF_SECURITY_TOKEN": "x"},
            "failed: INVALID_LOGIN: Invalid username, password, security token; or user locked out.",
        ),
        (
            ["--client-id", "3MVG9fakeConsumerKey"],
            {"SF_CLIENT_SECRET": "wrong"},
            "failed: invalid_grant: authentication failure",
        ),
    ],
)
def test_rejected_logins_exit_4_with_the_org_reason(
    org: FakeOrg, project: Path, args: list[str], env: dict, message: str
) -> None:
    result = run(org, project, [*args, "--login-url", org.url], env)
    assert result.exit_code == 4
    assert result.stderr.strip() == f"error: login at {org.url} {message}"
    assert "wrong" not in result.output


def test_unknown_sf_alias(org: FakeOrg, project: Path, fake_sf: Path) -> None:
    result = run(org, project, ["--target-org", "nope"], {"PATH": f"{fake_sf}{os.pathsep}{os.environ['PATH']}"})
    assert result.exit_code == 4
    assert (
        result.stderr.strip()
        == "error: --target-org nope: sf org display failed: No authorization information found for nope."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [],
            "error: no org to connect to: pass --target-org ALIAS (or -o; or set SF_TARGET_ORG, or sf's target-org "
            "config), or --instance-url with SF_ACCESS_TOKEN set, or --username (SF_PASSWORD, SF_SECURITY_TOKEN), or "
            "--client-id with --jwt-key-file or SF_CLIENT_SECRET",
        ),
        (
            ["--instance-url", "https://acme.my.salesforce.com"],
            "error: --instance-url: set the environment variable SF_ACCESS_TOKEN to the access token",
        ),
        (["--username", "a@b.c"], "error: set the environment variable SF_PASSWORD (asked for only on a terminal)"),
        (
            ["--client-id", "k"],
            "error: --login-url: OAuth client credentials need the org's My Domain URL (--instance-url or "
            "SF_INSTANCE_URL), such as https://acme.my.salesforce.com",
        ),
        (
            ["--client-id", "k", "--jwt-key-file", "/nonexistent/key.pem", "--username", "a@b.c"],
            "error: --jwt-key-file: cannot read /nonexistent/key.pem (No such file or directory)",
        ),
        (
            ["--instance-url", "http://plain.example.com"],
            "error: --instance-url: 'http://plain.example.com' is not an https URL such as https://login.salesforce.com",
        ),
    ],
)
def test_missing_credentials_are_usage_errors(org: FakeOrg, project: Path, args: list[str], message: str) -> None:
    env = {"SF_ACCESS_TOKEN": "tok"} if args[:1] == ["--instance-url"] and "http:" in args[1] else {}
    result = run(org, project, args, env)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert org.calls == []


def test_no_secret_in_any_output(org: FakeOrg, project: Path, rsa_key: Path, fake_sf: Path, tmp_path: Path) -> None:
    """Every login method, a session that expires mid-poll, failures and reports, all with --verbose."""
    outputs: list[str] = []
    for number, (method, (args, env)) in enumerate(login_cases(org, rsa_key, fake_sf).items()):
        for scenario in (
            Scenario(outcome="failing", duration=1.5, status_faults={org.status_calls + 2: "expire"}),
            Scenario(outcome="success"),
        ):
            org.scenario = scenario
            org.sessions.add(org.access_token)  # the access token and sf CLI methods cannot log in again
            reports = [
                tmp_path / f"{number}-{scenario.outcome}.junit.xml",
                tmp_path / f"{number}-{scenario.outcome}.cov.xml",
            ]
            for extra in ([], ["--json"]):
                result = run(
                    org,
                    project,
                    [*args, "--verbose", "--junit", str(reports[0]), "--coverage", str(reports[1]), *extra],
                    env,
                )
                assert result.exit_code in (0, 1, 4), (method, result.output)
                outputs += [result.stdout, result.stderr, *(p.read_text() for p in reports if p.exists())]
    bad_login = run(
        org,
        project,
        ["--username", org.username, "--login-url", org.url, "--verbose"],
        {"SF_PASSWORD": org.password + "x", "SF_SECURITY_TOKEN": org.security_token},
    )
    outputs += [bad_login.stdout, bad_login.stderr]
    assert org.call_count("login") >= 3 and len(org.issued_sessions) >= 6
    secrets = [
        org.password,
        org.security_token,
        org.password + org.security_token,
        org.client_secret,
        *org.issued_sessions,
        *rsa_key.read_text().splitlines()[1:-1],
    ]
    everything = "\n".join(outputs)
    assert "[apexgen] POST" in everything  # --verbose did log the calls
    leaked = [secret for secret in secrets if secret and secret in everything]
    assert leaked == []


@pytest.mark.real_clock  # the CLI runs in a subprocess, on the real clock
def test_ctrl_c_prints_the_deploy_id_and_the_resume_command_and_cancels_nothing(org: FakeOrg, project: Path) -> None:
    org.scenario = Scenario(duration=60.0)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "generator"),
        "REQUESTS_CA_BUNDLE": org.ca_bundle,  # type: ignore[attr-defined]
        "SF_ACCESS_TOKEN": org.access_token,
    }
    process = subprocess.Popen(
        deploy_command(org, project),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = interrupt_when(process, lambda: org.call_count("checkDeployStatus") >= 1)
    assert process.returncode == 130
    assert stdout == ""
    assert (
        "interrupted; 0Af000000000001AAA goes on in the org. Follow it: apexgen deploy --resume 0Af000000000001AAA"
        "  Cancel it: apexgen deploy --cancel 0Af000000000001AAA"
    ) in stderr
    assert "Traceback" not in stderr
    assert org.call_count("cancelDeploy") == 0


# sf's default org, resolved as sf resolves it (sfdx-core ConfigAggregator: environment, then the project's
# .sf/config.json, then the user's), and the short -o of sf's --target-org.


def sf_config(folder: Path, alias: str) -> None:
    (folder / ".sf").mkdir(parents=True, exist_ok=True)
    (folder / ".sf" / "config.json").write_text(json.dumps({"target-org": alias}))


@pytest.mark.parametrize("where", ["-o", "SF_TARGET_ORG", "project config", "user config"])
def test_sf_s_default_org_is_used_where_sf_would_find_it(
    org: FakeOrg, project: Path, fake_sf: Path, tmp_path: Path, where: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{fake_sf}{os.pathsep}{os.environ['PATH']}", "HOME": str(home)}
    args: list[str] = []
    if where == "-o":
        args = ["-o", "ci-org"]
    elif where == "SF_TARGET_ORG":
        env["SF_TARGET_ORG"] = "ci-org"
        sf_config(project, "nope")  # the environment comes first
    elif where == "project config":
        sf_config(project, "ci-org")
        sf_config(home, "nope")  # the project's config comes before the user's
    else:
        sf_config(home, "ci-org")
    result = run(org, project, args, env)
    assert result.exit_code == 0, result.output
    assert f"Connected to {org.url} (sf CLI org ci-org" in result.stderr


def test_a_default_org_sf_does_not_know_names_where_it_came_from(
    org: FakeOrg, project: Path, fake_sf: Path, tmp_path: Path
) -> None:
    sf_config(project, "nope")
    env = {"PATH": f"{fake_sf}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}
    result = run(org, project, [], env)
    assert result.exit_code == 4
    config = project / ".sf" / "config.json"
    assert result.stderr.strip() == (
        f"error: {config}: target org nope: sf org display failed: No authorization information found for nope."
    )


def test_login_options_given_win_over_sf_s_default_org(org: FakeOrg, project: Path, tmp_path: Path) -> None:
    sf_config(project, "nope")  # no sf on PATH would answer for it
    result = run(
        org, project, ["--instance-url", org.url], {"SF_ACCESS_TOKEN": org.access_token, "HOME": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output


def test_missing_credentials_stop_deploy_before_the_checks_and_the_conversion(
    org: FakeOrg, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the deep check and the conversion ran before the login options were checked")

    monkeypatch.setattr("apexgen.deploy.deploy.prepare", must_not_run)
    environment = {"SF_ACCESS_TOKEN": None, "SF_TARGET_ORG": None, "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    result = CliRunner().invoke(main, ["deploy", "--project-dir", str(project), "--deep-checks"], env=environment)
    assert result.exit_code == 2 and result.stderr.startswith("error: no org to connect to")
    sf_config(project, "ci-org")
    environment["PATH"] = str(tmp_path / "nowhere")  # a default org, and no sf to ask for it
    result = CliRunner().invoke(main, ["deploy", "--project-dir", str(project), "--deep-checks"], env=environment)
    assert result.exit_code == 2
    assert "the org ci-org is one the sf CLI knows, and sf is not on PATH" in result.stderr
    assert org.calls == []
