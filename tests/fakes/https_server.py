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
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme


@dataclass
class RunningServer:
    url: str
    ca_bundle: str
    httpd: ThreadingHTTPServer

    @property
    def state(self) -> Any:
        return self.httpd.state  # type: ignore[attr-defined]


@contextlib.contextmanager
def serve_https(handler: type[BaseHTTPRequestHandler], state: Any = None) -> Iterator[RunningServer]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
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
