"""A local HTTPS fake of the Models REST API and of the org's OAuth token endpoint.

One server plays both hosts: ``/services/oauth2/token`` (the org's My Domain) and
``/einstein/platform/v1/...`` (api.salesforce.com). It answers with the documented shapes (models-api.md
§5) and records every request, so tests can assert what the client sent. Tests script failures by
queueing ``CannedReply``s; without them it behaves like a healthy API.

Run it by hand to try ``apexgen models`` offline::

    python -m tests.fakes.models_api     # prints the environment to export, serves until Ctrl-C
"""

from __future__ import annotations

import base64
import collections
import contextlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote

from apexgen.spec.standard_models import STANDARD_MODELS
from tests.fakes.https_server import RunningServer, serve_https

API_PREFIX = "/einstein/platform/v1"
TOKEN_PATH = "/services/oauth2/token"
FEEDBACK_MESSAGE = "Feedback received, Thank you!"


@dataclass(frozen=True)
class CannedReply:
    """An answer the fake gives to the next API request instead of its normal one."""

    status: int
    body: bytes | dict[str, Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (cut short when the server stops)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # lower-cased names
    raw: bytes
    at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.raw)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.raw.decode()).items()}


@dataclass
class FakeModelsApi:
    """State of the fake: credentials it accepts, tokens it issued, scripted replies, what it received."""

    client_id: str = "3MVG9fake.consumer.key"
    client_secret: str = field(default_factory=lambda: "secret-" + secrets.token_hex(12))
    token_lifetime: float = 1800.0  # a JWT-based token lives 30 minutes by default
    configured_models: set[str] = field(default_factory=set)
    refuse_next_tokens: int = 0  # how many of the next issued tokens the API answers with 401
    replies: collections.deque[CannedReply] = field(default_factory=collections.deque)
    token_replies: collections.deque[CannedReply] = field(default_factory=collections.deque)  # for token requests
    issued_tokens: list[str] = field(default_factory=list)
    refused_tokens: set[str] = field(default_factory=set)
    token_requests: list[RecordedRequest] = field(default_factory=list)
    api_requests: list[RecordedRequest] = field(default_factory=list)
    api_answers: list[bytes] = field(default_factory=list)  # bodies sent back to API requests, in order
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue_token(self) -> str:
        def part(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

        claims = {
            "exp": int(time.time() + self.token_lifetime),
            "scp": ["sfap_api", "api"],
            "jti": secrets.token_hex(8),
        }
        token = f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.{secrets.token_urlsafe(32)}"
        with self.lock:
            self.issued_tokens.append(token)
            if self.refuse_next_tokens > 0:
                self.refuse_next_tokens -= 1
                self.refused_tokens.add(token)
        return token

    def next_reply(self) -> CannedReply | None:
        with self.lock:
            return self.replies.popleft() if self.replies else None

    def secrets_in_play(self) -> list[str]:
        """Values that must never appear in any output: the client secret and every issued token."""
        return [self.client_secret, *self.issued_tokens]


def api_error(code: str, message: str) -> dict[str, Any]:
    """The API's documented error shape (models-api.md §5.6)."""
    return {"errorCode": code, "messageCode": code.lower(), "message": message}


def _words(text: str) -> int:
    return len(text.split())


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _content_quality() -> dict[str, Any]:
    return {
        "scanToxicity": {
            "isDetected": False,
            "categories": [
                {"categoryName": "identity", "score": 0.0002},
                {"categoryName": "toxicity", "score": 0.0005},
            ],
        }
    }


def fake_vector(text: str) -> list[float]:
    """A deterministic 8-dimensional vector: letter counts folded into 8 buckets, so alike texts are close."""
    vector = [0.0] * 8
    for char in text.lower():
        if char.isalpha():
            vector[ord(char) % 8] += 1.0
    return vector


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeModelsApi/1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    fake: FakeModelsApi  # read once per request: tests may swap the server's state between requests

    def _record(self) -> RecordedRequest:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        return RecordedRequest(self.path, headers, raw, time.monotonic())

    def _send(self, status: int, body: bytes | dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        self.send_response(status)
        headers = headers or {}
        if isinstance(body, dict):
            headers.setdefault("Content-Type", "application/json;charset=UTF-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.path.startswith(API_PREFIX):
            self.fake.api_answers.append(data)
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.fake = self.server.state  # type: ignore[attr-defined]
        request = self._record()
        if self.path == TOKEN_PATH:
            self.fake.token_requests.append(request)
            self._token(request)
        elif self.path.startswith(API_PREFIX + "/"):
            self.fake.api_requests.append(request)
            self._api(request, self.path[len(API_PREFIX) :])
        else:
            self._send(404, b"<html><body>Not Found</body></html>", {"Content-Type": "text/html"})

    def _token(self, request: RecordedRequest) -> None:
        form = request.form()
        with self.fake.lock:
            canned = self.fake.token_replies.popleft() if self.fake.token_replies else None
        if canned is not None:
            self._send(canned.status, canned.body, dict(canned.headers))
        elif form.get("grant_type") != "client_credentials":
            self._send(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        elif form.get("client_id") != self.fake.client_id or form.get("client_secret") != self.fake.client_secret:
            self._send(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        else:
            host = f"https://{self.headers.get('Host')}"
            self._send(
                200,
                {
                    "access_token": self.fake.issue_token(),
                    "signature": secrets.token_urlsafe(16),
                    "scope": "sfap_api api",
                    "instance_url": host,
                    "id": f"{host}/id/00Dxx0000000001/005xx0000000001",
                    "token_type": "Bearer",
                    "issued_at": str(int(time.time() * 1000)),
                    "api_instance_url": "https://api.salesforce.com",
                },
            )

    def _api(self, request: RecordedRequest, path: str) -> None:
        reply = self.fake.next_reply()
        if reply is not None:
            if reply.delay:
                self.fake.stopping.wait(reply.delay)
            # OSError: the client gave up waiting (a timeout test): nobody is left to answer
            with contextlib.suppress(OSError):
                self._send(reply.status, reply.body, dict(reply.headers))
            return
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.fake.issued_tokens or token in self.fake.refused_tokens:
            self._send(401, api_error("INVALID_AUTH", "Access bearer token is missing or invalid"))
            return
        for name in ("x-sfdc-app-context", "x-client-feature-id"):
            if name not in request.headers:
                self._send(400, api_error("REQUIRED_FIELD_MISSING", f"Missing required header {name}"))
                return
        try:
            body = request.json()
        except ValueError:
            self._send(400, api_error("JSON_PARSER_ERROR", "Request body is not valid JSON"))
            return
        if path == "/feedback":
            self._feedback(body)
            return
        parts = path.split("/")  # ['', 'models', name, operation]
        if len(parts) != 4 or parts[1] != "models":
            self._send(404, api_error("NOT_FOUND", f"No route for {path}"))
            return
        model, operation = unquote(parts[2]), parts[3]
        if model not in STANDARD_MODELS and model not in self.fake.configured_models:
            self._send(404, api_error("NOT_FOUND", f"Model {model} not found"))
            return
        answer = {"generations": self._generation, "chat-generations": self._chat, "embeddings": self._embeddings}.get(
            operation
        )
        if answer is None:
            self._send(404, api_error("NOT_FOUND", f"No route for {path}"))
            return
        answer(model, body)

    def _generation(self, model: str, body: dict[str, Any]) -> None:
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            self._send(400, api_error("REQUIRED_FIELD_MISSING", "prompt is required"))
            return
        text = f"{model} says: {prompt}"
        self._send(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "generation": {
                    "id": str(uuid.uuid4()),
                    "generatedText": text,
                    "contentQuality": _content_quality(),
                    "parameters": {"finish_reason": "stop", "index": 0, "logprobs": None},
                },
                "moreGenerations": None,
                "prompt": None,
                "parameters": {
                    "created": int(time.time()),
                    "usage": _usage(_words(prompt), _words(text)),
                    "model": model,
                    "system_fingerprint": None,
                    "object": "chat.completion",
                },
            },
        )

    def _chat(self, model: str, body: dict[str, Any]) -> None:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            self._send(400, api_error("REQUIRED_FIELD_MISSING", "messages is required"))
            return
        last_user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        text = f"{model} answers: {last_user}"
        self._send(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "generationDetails": {
                    "generations": [
                        {
                            "id": str(uuid.uuid4()),
                            "role": "assistant",
                            "content": text,
                            "timestamp": int(time.time() * 1000),
                            "parameters": {"finish_reason": "stop", "index": 0},
                            "contentQuality": _content_quality(),
                        }
                    ],
                    "parameters": {
                        "created": int(time.time()),
                        "usage": _usage(sum(_words(m.get("content", "")) for m in messages), _words(text)),
                        "model": model,
                        "object": "chat.completion",
                    },
                },
            },
        )

    def _embeddings(self, model: str, body: dict[str, Any]) -> None:
        texts = body.get("input")
        if not isinstance(texts, list) or not texts:
            self._send(400, api_error("REQUIRED_FIELD_MISSING", "input is required"))
            return
        # Listed last input first: a client must order embeddings by "index", not by position.
        embeddings = [{"embedding": fake_vector(text), "index": i} for i, text in reversed(list(enumerate(texts)))]
        tokens = sum(_words(t) for t in texts)
        self._send(
            200,
            {
                "embeddings": embeddings,
                "parameters": {"usage": {"prompt_tokens": tokens, "total_tokens": tokens}, "model": model},
            },
        )

    def _feedback(self, body: dict[str, Any]) -> None:
        if not body.get("id") or not body.get("generationId"):
            self._send(400, api_error("REQUIRED_FIELD_MISSING", "id and generationId are required"))
        elif body.get("feedback") not in ("GOOD", "BAD", None):
            self._send(400, api_error("INVALID_FIELD", "feedback must be GOOD or BAD"))
        else:
            self._send(202, {"message": FEEDBACK_MESSAGE})


@contextlib.contextmanager
def serve_models_api(fake: FakeModelsApi | None = None) -> Iterator[tuple[RunningServer, FakeModelsApi]]:
    """Run the fake: ``with serve_models_api() as (server, fake)``; ``server.url`` is the instance URL."""
    fake = fake or FakeModelsApi()
    with serve_https(_Handler, state=fake) as server:
        try:
            yield server, fake
        finally:
            fake.stopping.set()  # releases replies still being delayed, so shutdown does not wait on them


def main() -> None:
    with serve_models_api() as (server, fake):
        print(f"export SF_INSTANCE_URL={server.url}")
        print(f"export APEXGEN_MODELS_API_URL={server.url}{API_PREFIX}")
        print(f"export REQUESTS_CA_BUNDLE={server.ca_bundle}")
        print(f"export SF_CLIENT_ID={fake.client_id}")
        print(f"export SF_CLIENT_SECRET={fake.client_secret}")
        print("# serving; Ctrl-C stops", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
