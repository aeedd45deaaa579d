"""A threaded HTTPS server on loopback with a throw-away CA (trustme), for the fake org and fake APIs.

Usage::

    with serve_https(MyHandler) as server:
        requests.get(server.url + "/x", verify=server.ca_bundle)

``MyHandler`` is a ``http.server.BaseHTTPRequestHandler`` subclass; it can reach shared state through
``self.server.state`` (whatever was passed as ``state``).
"""

from __future__ import annotations

import contextlib
import ssl
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme

# A client that hung up before its answer was written: the fake's late answer fails, which is no error of the fake's.
HUNG_UP = (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError)


class QuietThreadingHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that reports its handlers' errors on the process's own stderr, and says nothing of
    clients that hung up.

    socketserver prints a failed handler's traceback to ``sys.stderr``, which a ``CliRunner`` of the running
    test may have replaced: a client that gave up waiting (a timeout test) made the fake's late answer fail
    seconds later, and "Exception occurred during processing of request ... SSLEOFError" became part of the
    stderr of whatever command ran then, often another test's, which failed at random under load."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], HUNG_UP):
            return
        traceback.print_exc(file=sys.__stderr__)


@dataclass
class RunningServer:
    url: str
    ca_bundle: str
    httpd: QuietThreadingHTTPServer

    @property
    def state(self) -> Any:
        return self.httpd.state  # type: ignore[attr-defined]


@contextlib.contextmanager
def serve_https(handler: type[BaseHTTPRequestHandler], state: Any = None) -> Iterator[RunningServer]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    httpd = QuietThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.state = state  # type: ignore[attr-defined]
    # A short poll interval: shutdown waits for the serving loop to look, 0.5 s by default, at every test's end.
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-https", daemon=True
    )
    thread.start()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        try:
            yield RunningServer(f"https://127.0.0.1:{httpd.server_address[1]}", str(bundle), httpd)
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)
