"""Issue 23, item 3: a redirect never carries credentials to another scheme, host or port.

An HTTPS server answers every request with a redirect to a plain-HTTP listener on another port, which records
whatever reaches it. Before the fix, requests followed the 307 and re-sent the SOAP login (password and
security token), the client secret of the token endpoint and the deploy's session id to it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from apexgen import web
from apexgen.cli import main
from apexgen.models_api.client import Credentials, ModelsClient, generate_request
from apexgen.org.connect import LoginOptions, connect
from apexgen.web import AnswerRefused, RedirectRefused, refuse_cross_origin
from tests.fakes.https_server import serve_https
from tests.fakes.org import write_sample_project

SECRET = "s3cr3t-never-in-clear"


@dataclass
class Redirector:
    target: str
    status: int = 307
    received: list[bytes] = field(default_factory=list)


class _Redirect(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        state: Redirector = self.server.state  # type: ignore[attr-defined]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(state.status)
        self.send_header("Location", state.target + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Record(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        state: Redirector = self.server.state  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state.received.append(str(self.headers).encode() + body)
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def plain_listener() -> Iterator[tuple[str, Redirector]]:
    state = Redirector(target="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Record)
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def redirector(
    plain_listener: tuple[str, Redirector], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Redirector]]:
    target, state = plain_listener
    state.target = target
    with serve_https(_Redirect, state) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_bundle)
        yield server.url, state


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(lambda url: LoginOptions(username="u@example.com", login_url=url), id="SOAP login"),
        pytest.param(lambda url: LoginOptions(client_id="3MVGkey", login_url=url), id="client credentials"),
    ],
)
def test_a_login_redirected_to_plain_http_is_refused(redirector: tuple[str, Redirector], options) -> None:
    url, state = redirector
    environ = {"SF_PASSWORD": SECRET, "SF_SECURITY_TOKEN": SECRET, "SF_CLIENT_SECRET": SECRET}
    with pytest.raises(RedirectRefused) as raised:
        connect(options(url), environ=environ)
    assert state.received == []
    assert f"redirected the request to {state.target}/" in str(raised.value)
    assert raised.value.exit_code == 4
    assert SECRET not in str(raised.value)


def test_a_deploy_redirected_to_plain_http_sends_no_session_id(
    redirector: tuple[str, Redirector], tmp_path: Path
) -> None:
    url, state = redirector
    project = write_sample_project(tmp_path / "project")
    result = CliRunner().invoke(
        main,
        ["deploy", "--project-dir", str(project), "--skip-checks", "--instance-url", url],
        env={"SF_ACCESS_TOKEN": SECRET},
    )
    assert result.exit_code == 4, result.output
    assert state.received == []
    assert f"redirected the request to {state.target}/services/" in result.stderr
    assert SECRET not in result.output


def test_the_models_api_token_request_is_not_redirected(redirector: tuple[str, Redirector]) -> None:
    url, state = redirector
    client = ModelsClient(Credentials(url, "key", SECRET), api_url=url)
    with pytest.raises(RedirectRefused, match="refused"):
        client.send(generate_request("sfdc_ai__DefaultGPT4Omni", "hello"))
    assert state.received == []


@pytest.mark.parametrize(
    ("location", "refused"),
    [
        ("/services/Soap/u/65.0", False),
        ("https://org.example.com:443/x", False),
        ("https://ORG.example.com/x", False),
        ("http://org.example.com/x", True),
        ("https://evil.example.com/x", True),
        ("https://org.example.com:8443/x", True),
        ("//evil.example.com/x", True),
        ("https://org.example.com:bad/x", True),
    ],
)
def test_only_same_origin_redirects_are_followed(location: str, refused: bool) -> None:
    if refused:
        with pytest.raises(RedirectRefused):
            refuse_cross_origin("https://org.example.com/services/Soap/u/65.0", location)
    else:
        refuse_cross_origin("https://org.example.com/services/Soap/u/65.0", location)


class _Hostile(BaseHTTPRequestHandler):
    """Answers as the test's ``state.status`` says: "huge" (a body larger than apexgen reads), "short" (a
    Content-Length the body never reaches), "deep" (JSON nested 100,000 levels)."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        kind = self.server.state  # type: ignore[attr-defined]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if kind == "deep":
            body = b"[" * 100_000 + b"]" * 100_000
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif kind == "short":
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"access_token": "x"')
        else:
            self.send_header("Content-Length", str(3 * 1024 * 1024))
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(3):
                    self.wfile.write(b" " * 1024 * 1024)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("huge", "is larger than 1 MB; refused before reading it all"),
        ("short", "ended before its announced length (the connection was cut); try again"),
        ("deep", "is JSON nested too deeply to be read; refused"),
    ],
)
def test_answers_too_large_cut_short_or_nested_too_deeply_are_one_line_errors(
    kind: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 23, items 9 and 12: a 400 MB answer was read whole, a truncated one said "cannot connect", and
    deeply nested JSON from the org or the Models API ended in exit 123."""
    monkeypatch.setattr(web, "MAX_ANSWER_BYTES", 1024 * 1024)
    with serve_https(_Hostile, kind) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_bundle)
        client = ModelsClient(Credentials(server.url, "key", SECRET), api_url=server.url)
        with pytest.raises(AnswerRefused) as raised:
            client.send(generate_request("sfdc_ai__DefaultGPT4Omni", "hello"))
    assert message in str(raised.value)
    assert raised.value.exit_code == 4


class _Malformed(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        status, body = self.server.state  # type: ignore[attr-defined]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize(
    ("options", "status", "body", "said"),
    [
        ("soap", 200, b"", "its answer is not a login result"),
        ("soap", 200, b"<soapenv:Envelope", "its answer is not a login result"),
        ("soap", 500, b"\xff\xfe not UTF-8", "its answer is not a login result"),
        (
            "soap",
            500,
            b"<html>\x1b[31mdown\nfor maintenance</html>",
            "500: <html>\\x1b[31mdown\\nfor maintenance</html>",
        ),
        ("oauth", 200, b'{"no": "token"}', "its answer is not a login result"),
        ("oauth", 200, b"not json", "200: not json"),
    ],
)
def test_a_malformed_login_answer_is_a_connection_error(
    options: str, status: int, body: bytes, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 23, item 9: an empty or malformed SOAP login answer ended in exit 123; item 12: escapes printed raw."""
    from apexgen.org.connect import AuthenticationFailed

    with serve_https(_Malformed, (status, body)) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_bundle)
        login = (
            LoginOptions(username="u@example.com", login_url=server.url)
            if options == "soap"
            else LoginOptions(client_id="3MVGkey", login_url=server.url)
        )
        with pytest.raises(AuthenticationFailed) as raised:
            connect(login, environ={"SF_PASSWORD": SECRET, "SF_SECURITY_TOKEN": SECRET, "SF_CLIENT_SECRET": SECRET})
    assert str(raised.value) == f"login at {server.url} failed: {said}"
