"""The Models API client below the command line: token lifetime, the interactive prompt, vector measures."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apexgen.models_api.client import (
    TOKEN_RENEWAL_MARGIN,
    Credentials,
    ModelsClient,
    cosine,
    dot,
    euclidean,
    generate_request,
    jwt_expiry,
)
from tests.fakes.https_server import RunningServer
from tests.fakes.models_api import API_PREFIX, FakeModelsApi, serve_models_api

WORKTREE = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RunningServer, FakeModelsApi]]:
    with serve_models_api() as (server, fake):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_bundle)
        yield server, fake


def test_the_token_is_reused_and_renewed_only_when_it_is_about_to_expire(
    fake_api: tuple[RunningServer, FakeModelsApi],
) -> None:
    server, fake = fake_api
    now = time.time()
    client = ModelsClient(
        Credentials(server.url, fake.client_id, fake.client_secret),
        server.url + API_PREFIX,
        timeout=5,
        clock=lambda: now,
    )
    request = generate_request("sfdc_ai__DefaultGPT41", "hi")

    client.send(request)
    client.send(request)
    assert len(fake.token_requests) == 1

    now += fake.token_lifetime - TOKEN_RENEWAL_MARGIN + 1  # inside the renewal margin of the 30-minute JWT
    client.send(request)

    assert len(fake.token_requests) == 2
    tokens = [r.headers["authorization"].removeprefix("Bearer ") for r in fake.api_requests]
    assert tokens == [fake.issued_tokens[0], fake.issued_tokens[0], fake.issued_tokens[1]]


def test_jwt_expiry_is_read_from_the_token_and_opaque_tokens_have_none() -> None:
    fake = FakeModelsApi(token_lifetime=600)
    before = time.time()

    expiry = jwt_expiry(fake.issue_token())

    assert expiry is not None and before + 599 <= expiry <= time.time() + 601
    assert jwt_expiry("00Dxx0000000001!AQ4AQFakeOpaqueSessionId") is None
    assert jwt_expiry("a.!!!not-base64!!!.c") is None


def test_credentials_repr_hides_the_secret() -> None:
    assert "s3cr3t" not in repr(Credentials("https://x.my.salesforce.com", "key", "s3cr3t"))


def test_vector_measures() -> None:
    assert cosine([1.0, 0.0], [0.0, 2.0]) == 0.0
    assert cosine([1.0, 2.0], [2.0, 4.0]) == pytest.approx(1.0)
    assert cosine([0.0, 0.0], [1.0, 1.0]) == 0.0  # a zero vector is similar to nothing
    assert dot([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == 32.0
    assert euclidean([0.0, 0.0], [3.0, 4.0]) == 5.0
    with pytest.raises(ValueError):
        dot([1.0], [1.0, 2.0])


def _read_until(fd: int, marker: bytes, seen: bytearray, deadline: float) -> None:
    while marker not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"no {marker!r} on the terminal; got {bytes(seen)!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            chunk = b""
        if not chunk:
            raise AssertionError(f"terminal closed before {marker!r}; got {bytes(seen)!r}")
        seen.extend(chunk)


def test_credentials_are_asked_for_on_a_terminal_and_the_secret_is_not_echoed(
    fake_api: tuple[RunningServer, FakeModelsApi],
) -> None:
    server, fake = fake_api
    env = {k: v for k, v in os.environ.items() if k not in ("SF_CLIENT_ID", "SF_CLIENT_SECRET")}
    env.update(
        PYTHONPATH=str(WORKTREE / "generator"),
        SF_INSTANCE_URL=server.url,
        APEXGEN_MODELS_API_URL=server.url + API_PREFIX,
        REQUESTS_CA_BUNDLE=server.ca_bundle,
    )
    controller, terminal = os.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "apexgen", "models", "generate", "-m", "sfdc_ai__DefaultGPT41", "hello"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        start_new_session=True,  # no controlling terminal of ours: the prompts must use this one
    )
    os.close(terminal)
    seen = bytearray()
    deadline = time.monotonic() + 30
    try:
        _read_until(controller, b"Consumer key: ", seen, deadline)
        os.write(controller, fake.client_id.encode() + b"\n")
        _read_until(controller, b"Consumer secret: ", seen, deadline)
        os.write(controller, fake.client_secret.encode() + b"\n")
        _read_until(controller, b"tokens: ", seen, deadline)
        assert child.wait(timeout=30) == 0
    finally:
        if child.poll() is None:
            child.kill()
        os.close(controller)

    output = bytes(seen).decode()
    assert fake.client_id in output  # the consumer key is not a secret: it is echoed as typed
    assert fake.client_secret not in output
    assert "sfdc_ai__DefaultGPT41 says: hello" in output
    assert len(fake.api_requests) == 1
