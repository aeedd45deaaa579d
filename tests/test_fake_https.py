"""The loopback HTTPS server under every fake (org, Dev Hub, Models API): what it says, and where.

A command run by ``CliRunner`` writes to a ``sys.stderr`` the runner put in place, and the fakes' handler
threads go on between and across tests. Before: a handler whose client had hung up (a timeout test) failed
when it answered late, socketserver printed the traceback to that ``sys.stderr``, and the one-line error of
whatever command ran then, often in another test, became "Exception occurred during processing of request
... ssl.SSLEOFError": tests of ``test_deploy.py`` failed at random under load.
"""

from __future__ import annotations

import io
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from tests.fakes.https_server import HUNG_UP, RunningServer, serve_https


@dataclass
class _Late:
    """What the test and ``_Answers`` share: when to answer, who answers, how the answer failed."""

    go: threading.Event = field(default_factory=threading.Event)
    answering: list[threading.Thread] = field(default_factory=list)
    failures: list[OSError] = field(default_factory=list)


class _Answers(BaseHTTPRequestHandler):
    """Answers once the test lets it: ``/bug`` fails as a fake with a bug would, any other path writes until
    the connection fails."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        late: _Late = self.server.state  # type: ignore[attr-defined]
        late.answering.append(threading.current_thread())
        late.go.wait(30)
        if self.path == "/bug":
            raise ValueError("the fake's own bug")
        try:
            self.send_response(200)
            self.send_header("Content-Length", str(64 * 1024 * 1024))
            self.end_headers()
            # The first writes to a closed connection may still reach the kernel; one of the next fails.
            for _ in range(64 * 1024):
                self.wfile.write(b"x" * 1024)
        except OSError as failure:
            late.failures.append(failure)
            raise


def _ask(server: RunningServer, path: str) -> socket.socket:
    port = int(server.url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=server.ca_bundle)
    tls = context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
    tls.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return tls


def _answered_after_hang_up(path: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, _Late]:
    """What the handler of ``path`` wrote to the replaced ``sys.stderr`` when it answered a client that had left
    without a TLS goodbye, as a timed-out or dropped pooled connection leaves; and what it met."""
    late, captured = _Late(), io.StringIO()
    with serve_https(_Answers, late) as server:
        monkeypatch.setattr(sys, "stderr", captured)  # as CliRunner does while a command runs
        tls = _ask(server, path)
        deadline = time.monotonic() + 30
        while not late.answering and time.monotonic() < deadline:
            time.sleep(0.01)
        assert late.answering, "the request never reached the handler"
        socket.socket(fileno=tls.detach()).close()
        late.go.set()
        late.answering[0].join(60)
        assert not late.answering[0].is_alive(), "the handler is still answering"
    monkeypatch.undo()
    return captured.getvalue(), late


def test_a_late_answer_to_a_client_that_hung_up_writes_nothing_on_a_command_s_stderr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    said, late = _answered_after_hang_up("/late", monkeypatch)
    assert len(late.failures) == 1 and isinstance(late.failures[0], HUNG_UP), late.failures
    assert said == ""


def test_a_bug_of_the_fake_still_shows_on_the_process_s_stderr(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    assert _answered_after_hang_up("/bug", monkeypatch)[0] == ""
    assert "ValueError: the fake's own bug" in capfd.readouterr().err
