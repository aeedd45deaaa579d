"""``apexgen models ...`` through the real command line against the local HTTPS fake of the Models API.

Every run goes through ``ModelsCli.run``, which fails the test on a traceback and on any secret (the
client secret or an access token the fake issued) in stdout or stderr.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from apexgen.cli import main
from apexgen.models_api.client import SIMILARITY
from apexgen.spec.load import load_spec
from apexgen.spec.standard_models import STANDARD_MODELS
from tests.fakes.https_server import RunningServer
from tests.fakes.models_api import (
    API_PREFIX,
    FEEDBACK_MESSAGE,
    CannedReply,
    FakeModelsApi,
    api_error,
    fake_vector,
    serve_models_api,
)

CHAT_MODEL = "sfdc_ai__DefaultGPT4OmniMini"
EMBED_MODEL = "sfdc_ai__DefaultOpenAITextEmbeddingAda_002"


@dataclass
class ModelsCli:
    server: RunningServer
    fake: FakeModelsApi

    def env(self) -> dict[str, str | None]:
        return {
            "SF_INSTANCE_URL": self.server.url,
            "APEXGEN_MODELS_API_URL": self.server.url + API_PREFIX,
            "REQUESTS_CA_BUNDLE": self.server.ca_bundle,
            "SF_CLIENT_ID": self.fake.client_id,
            "SF_CLIENT_SECRET": self.fake.client_secret,
            "APEXGEN_HTTP_TIMEOUT": "10",
        }

    def run(self, *args: str, input: str | None = None, **env: str | None) -> Result:
        """``apexgen models ARGS``; ``env`` overrides the fake's environment (None unsets a variable)."""
        result = CliRunner().invoke(main, ["models", *args], input=input, env={**self.env(), **env})
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"apexgen crashed: {result.exception!r}\n{result.output}") from result.exception
        for secret in self.fake.secrets_in_play():
            for stream in (result.stdout, result.stderr):
                assert secret not in stream, "a secret or access token reached the output"
        return result

    def answer(self, index: int = -1) -> Any:
        return json.loads(self.fake.api_answers[index])


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with serve_models_api() as (running, _):
        yield running


@pytest.fixture
def cli(server: RunningServer) -> Iterator[ModelsCli]:
    """A fresh fake (credentials, tokens, scripted replies, records) on the module's server."""
    fake = FakeModelsApi()
    server.httpd.state = fake  # type: ignore[attr-defined]
    yield ModelsCli(server, fake)
    fake.stopping.set()  # release a reply still being delayed


def test_list_prints_every_standard_model_with_its_capabilities(cli: ModelsCli) -> None:
    result = cli.run("list")

    assert result.exit_code == 0
    rows = result.stdout.splitlines()[1:]
    assert len(rows) == len(STANDARD_MODELS)
    for row, model in zip(rows, STANDARD_MODELS.values(), strict=True):
        assert row.split("  ")[0] == model.api_name
        assert ", ".join(model.capabilities) in row and row.endswith(model.label)


def test_list_json_and_capability_filter_come_from_the_same_table(cli: ModelsCli) -> None:
    result = cli.run("list", "--capability", "embed", "--json")

    assert result.exit_code == 0
    expected = [
        {"api_name": m.api_name, "capabilities": list(m.capabilities), "label": m.label}
        for m in STANDARD_MODELS.values()
        if "embed" in m.capabilities
    ]
    assert json.loads(result.stdout)["result"] == expected
    assert {m["api_name"] for m in expected} == {
        "sfdc_ai__DefaultAzureOpenAITextEmbeddingAda_002",
        "sfdc_ai__DefaultOpenAITextEmbeddingAda_002",
    }


def test_generate_sends_the_documented_request_and_prints_text_id_and_usage(cli: ModelsCli) -> None:
    result = cli.run("generate", "-m", CHAT_MODEL, "Invent 3 fun names for donuts")

    assert result.exit_code == 0, result.output
    (request,) = cli.fake.api_requests
    assert request.path == f"{API_PREFIX}/models/{CHAT_MODEL}/generations"
    assert request.json() == {"prompt": "Invent 3 fun names for donuts"}
    assert request.headers["x-sfdc-app-context"] == "EinsteinGPT"
    assert request.headers["x-client-feature-id"] == "ai-platform-models-connected-app"
    assert request.headers["authorization"] == f"Bearer {cli.fake.issued_tokens[0]}"
    assert request.headers["content-type"].startswith("application/json")
    assert cli.fake.token_requests[0].form() == {
        "grant_type": "client_credentials",
        "client_id": cli.fake.client_id,
        "client_secret": cli.fake.client_secret,
    }
    answer = cli.answer()
    assert result.stdout == answer["generation"]["generatedText"] + "\n"
    assert f"generation id: {answer['generation']['id']}" in result.stderr
    usage = answer["parameters"]["usage"]
    assert (
        f"tokens: {usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion = {usage['total_tokens']}"
        in result.stderr
    )


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_generate_reads_the_prompt_from_a_file_or_stdin(cli: ModelsCli, tmp_path: Path, source: str) -> None:
    prompt = "Line one\nLine {two} with braces"
    if source == "file":
        (tmp_path / "prompt.txt").write_text(prompt + "\n", "utf-8")
        result = cli.run("generate", "-m", CHAT_MODEL, "--file", str(tmp_path / "prompt.txt"))
    else:
        result = cli.run("generate", "-m", CHAT_MODEL, input=prompt + "\n")

    assert result.exit_code == 0, result.output
    assert cli.fake.api_requests[0].json() == {"prompt": prompt}


def test_generate_with_both_argument_and_file_is_a_usage_error(cli: ModelsCli, tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("x", "utf-8")
    result = cli.run("generate", "-m", CHAT_MODEL, "y", "--file", str(tmp_path / "p.txt"))

    assert result.exit_code == 2
    assert "not both" in result.stderr
    assert cli.fake.api_requests == []


def test_generate_json_prints_exactly_the_raw_response(cli: ModelsCli) -> None:
    result = cli.run("generate", "-m", CHAT_MODEL, "Hi", "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["result"] == cli.answer()
    assert result.stderr == ""


def test_chat_sends_system_conversation_and_message_in_order(cli: ModelsCli, tmp_path: Path) -> None:
    history = [{"role": "user", "content": "My printer is on fire."}, {"role": "assistant", "content": "Unplug it."}]
    (tmp_path / "conversation.json").write_text(json.dumps(history), "utf-8")

    result = cli.run(
        "chat",
        "-m",
        CHAT_MODEL,
        "--system",
        "You are terse.",
        "--conversation",
        str(tmp_path / "conversation.json"),
        "Done. Now?",
    )

    assert result.exit_code == 0, result.output
    (request,) = cli.fake.api_requests
    assert request.path == f"{API_PREFIX}/models/{CHAT_MODEL}/chat-generations"
    assert request.json() == {
        "messages": [
            {"role": "system", "content": "You are terse."},
            *history,
            {"role": "user", "content": "Done. Now?"},
        ]
    }
    generation = cli.answer()["generationDetails"]["generations"][0]
    assert result.stdout == generation["content"] + "\n"
    assert f"generation id: {generation['id']}" in result.stderr
    assert "tokens: " in result.stderr


def test_chat_with_a_conversation_alone_sends_it_unchanged(cli: ModelsCli, tmp_path: Path) -> None:
    history = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hello"}]
    (tmp_path / "c.json").write_text(json.dumps(history), "utf-8")

    result = cli.run("chat", "-m", CHAT_MODEL, "-c", str(tmp_path / "c.json"))

    assert result.exit_code == 0, result.output
    assert cli.fake.api_requests[0].json() == {"messages": history}


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("{not json", "is not valid JSON"),
        ('{"role": "user"}', "must be a JSON list"),
        (
            '[{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}]',
            "[1].role: must be one of: system, user, assistant",
        ),
        ('[{"role": "user", "text": "a"}]', '[0]: must be an object with exactly "role" and "content"'),
    ],
)
def test_chat_rejects_a_malformed_conversation_file(
    cli: ModelsCli, tmp_path: Path, content: str, complaint: str
) -> None:
    (tmp_path / "c.json").write_text(content, "utf-8")

    result = cli.run("chat", "-m", CHAT_MODEL, "-c", str(tmp_path / "c.json"), "hi")

    assert result.exit_code == 2
    assert complaint in result.stderr and "c.json" in result.stderr
    assert cli.fake.api_requests == []


def test_chat_refuses_a_second_system_message(cli: ModelsCli, tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text('[{"role": "system", "content": "A"}]', "utf-8")

    result = cli.run("chat", "-m", CHAT_MODEL, "-s", "B", "-c", str(tmp_path / "c.json"), "hi")

    assert result.exit_code == 2
    assert "already has a system message" in result.stderr


def test_embed_compares_inputs_in_their_own_order(cli: ModelsCli) -> None:
    texts = ["a cat sat", "a cat sat down", "quantum flux"]

    result = cli.run("embed", "-m", EMBED_MODEL, *texts)

    assert result.exit_code == 0, result.output
    (request,) = cli.fake.api_requests
    assert request.path == f"{API_PREFIX}/models/{EMBED_MODEL}/embeddings"
    assert request.json() == {"input": texts}
    # The fake lists embeddings last input first; the scores below only match if the client orders by index.
    vectors = [fake_vector(t) for t in texts]
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"#{n}  {t}" for n, t in enumerate(texts, start=1)]
    assert lines[3].split() == ["pair", "cosine", "dot", "euclidean"]
    pairs = {" ".join(line.split()[:2]): [float(x) for x in line.split()[2:]] for line in lines[4:]}
    assert set(pairs) == {"#1 #2", "#1 #3", "#2 #3"}
    for name, (i, j) in {"#1 #2": (0, 1), "#1 #3": (0, 2), "#2 #3": (1, 2)}.items():
        expected = [round(measure(vectors[i], vectors[j]), 4) for measure in SIMILARITY.values()]
        assert pairs[name] == pytest.approx(expected, abs=1e-4)
    assert "3 embedding(s) of 8 dimensions; 9 tokens" in result.stderr


def test_embed_reads_one_input_per_line_of_stdin_and_files(cli: ModelsCli, tmp_path: Path) -> None:
    (tmp_path / "doc.txt").write_text("a whole\nfile is one input\n", "utf-8")

    from_stdin = cli.run("embed", "-m", EMBED_MODEL, input="first line\n\nsecond line\n")
    from_file = cli.run("embed", "-m", EMBED_MODEL, "arg", "--file", str(tmp_path / "doc.txt"))

    assert (from_stdin.exit_code, from_file.exit_code) == (0, 0)
    assert cli.fake.api_requests[0].json() == {"input": ["first line", "second line"]}
    assert cli.fake.api_requests[1].json() == {"input": ["arg", "a whole\nfile is one input"]}
    assert from_file.stdout.splitlines()[1] == "#2  a whole file is one input"


def test_embed_with_one_input_says_how_to_compare(cli: ModelsCli) -> None:
    result = cli.run("embed", "-m", EMBED_MODEL, "alone")

    assert result.exit_code == 0
    assert result.stdout == "#1  alone\n"
    assert "give two or more inputs" in result.stderr


def test_embed_json_prints_the_raw_response(cli: ModelsCli) -> None:
    result = cli.run("embed", "-m", EMBED_MODEL, "a", "b", "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["result"] == cli.answer()


def test_feedback_sends_the_documented_body_and_prints_the_feedback_id(cli: ModelsCli) -> None:
    result = cli.run("feedback", "333127bd-1111", "bad", "--text", "Made up a phone number")

    assert result.exit_code == 0, result.output
    (request,) = cli.fake.api_requests
    assert request.path == f"{API_PREFIX}/feedback"
    body = request.json()
    assert body == {
        "id": body["id"],
        "generationId": "333127bd-1111",
        "feedback": "BAD",
        "feedbackText": "Made up a phone number",
        "source": "human",
    }
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert result.stdout == body["id"] + "\n"
    assert FEEDBACK_MESSAGE in result.stderr


def test_feedback_json_prints_the_raw_202_response(cli: ModelsCli) -> None:
    result = cli.run("feedback", "g-1", "GOOD", "--source", "app", "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["result"] == {"message": FEEDBACK_MESSAGE}
    assert cli.fake.api_requests[0].json()["source"] == "app"


def test_a_standard_model_that_cannot_do_the_capability_is_stopped_before_any_call(cli: ModelsCli) -> None:
    result = cli.run("embed", "-m", CHAT_MODEL, "x")

    assert result.exit_code == 2
    assert f"{CHAT_MODEL} cannot embed; it supports: generate, chat" in result.stderr
    assert cli.fake.token_requests == [] and cli.fake.api_requests == []


def test_a_configured_model_name_goes_through(cli: ModelsCli) -> None:
    cli.fake.configured_models.add("MyStudioModel_v1")

    result = cli.run("generate", "-m", "MyStudioModel_v1", "hi")

    assert result.exit_code == 0, result.output
    assert cli.fake.api_requests[0].path == f"{API_PREFIX}/models/MyStudioModel_v1/generations"


# --- authentication ----------------------------------------------------------------------------


def test_one_refused_token_is_renewed_once_and_the_call_succeeds(cli: ModelsCli) -> None:
    cli.fake.refuse_next_tokens = 1

    result = cli.run("generate", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 0, result.output
    assert len(cli.fake.token_requests) == 2
    first, second = cli.fake.api_requests
    assert first.headers["authorization"] == f"Bearer {cli.fake.issued_tokens[0]}"
    assert second.headers["authorization"] == f"Bearer {cli.fake.issued_tokens[1]}"


def test_a_token_refused_twice_exits_4_with_scope_advice(cli: ModelsCli) -> None:
    cli.fake.refuse_next_tokens = 5

    result = cli.run("chat", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 4
    assert "401 INVALID_AUTH: Access bearer token is missing or invalid" in result.stderr
    assert "'api' and 'sfap_api'" in result.stderr and "Client Credentials Flow" in result.stderr
    assert "JWT" in result.stderr
    assert (len(cli.fake.token_requests), len(cli.fake.api_requests)) == (2, 2)


def test_forbidden_exits_4_with_scope_advice(cli: ModelsCli) -> None:
    cli.fake.replies.append(CannedReply(403, api_error("NOT_FOUND", "Forbidden for this org")))

    result = cli.run("generate", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 4
    assert "403 NOT_FOUND: Forbidden for this org" in result.stderr and "sfap_api" in result.stderr


def test_wrong_client_secret_exits_4_and_names_the_variables(cli: ModelsCli) -> None:
    result = cli.run("generate", "-m", CHAT_MODEL, "hi", SF_CLIENT_SECRET="not-the-secret")

    assert result.exit_code == 4
    assert "token request to" in result.stderr and "400 invalid_client: invalid client credentials" in result.stderr
    assert "check the consumer key and secret" in result.stderr
    assert "not-the-secret" not in result.output
    assert cli.fake.api_requests == []


def test_missing_credentials_without_a_terminal_are_a_usage_error(cli: ModelsCli) -> None:
    no_secret = cli.run("generate", "-m", CHAT_MODEL, "hi", SF_CLIENT_SECRET=None)
    no_instance = cli.run("generate", "-m", CHAT_MODEL, "hi", SF_INSTANCE_URL=None)

    assert (no_secret.exit_code, no_instance.exit_code) == (2, 2)
    assert "consumer secret with SF_CLIENT_SECRET or --client-secret-file" in no_secret.stderr
    assert "--instance-url or SF_INSTANCE_URL" in no_instance.stderr
    assert cli.fake.token_requests == []


def test_the_secret_can_come_from_a_file_and_the_key_from_a_flag(cli: ModelsCli, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text(cli.fake.client_secret + "\n", "utf-8")

    result = cli.run(
        "generate",
        "-m",
        CHAT_MODEL,
        "hi",
        "--client-id",
        cli.fake.client_id,
        "--client-secret-file",
        str(tmp_path / "secret"),
        SF_CLIENT_ID=None,
        SF_CLIENT_SECRET=None,
    )
    unreadable = cli.run("generate", "-m", CHAT_MODEL, "hi", "--client-secret-file", str(tmp_path / "missing"))

    assert result.exit_code == 0, result.output
    assert cli.fake.token_requests[0].form()["client_secret"] == cli.fake.client_secret
    assert unreadable.exit_code == 2
    assert "--client-secret-file: cannot read" in unreadable.stderr


def test_a_plain_http_instance_url_is_refused_before_the_secret_is_sent(cli: ModelsCli) -> None:
    result = cli.run("generate", "-m", CHAT_MODEL, "hi", SF_INSTANCE_URL=cli.server.url.replace("https", "http"))

    assert result.exit_code == 2
    assert "--instance-url: 'http://127.0.0.1" in result.stderr and "is not an https URL" in result.stderr
    assert cli.fake.token_requests == []


def test_a_secret_echoed_by_the_server_is_masked(cli: ModelsCli) -> None:
    cli.fake.replies.append(CannedReply(400, api_error("INVALID_INPUT", f"bad value {cli.fake.client_secret}")))

    result = cli.run("generate", "-m", CHAT_MODEL, "hi")  # run() asserts the secret is absent

    assert result.exit_code == 1
    assert "400 INVALID_INPUT: bad value ***: the Models API rejected the request" in result.stderr


# --- errors of the API -------------------------------------------------------------------------


def test_unknown_model_404_exits_4_with_routing_advice(cli: ModelsCli) -> None:
    result = cli.run("generate", "-m", "sfdc_ai__NoSuchModel", "hi")

    assert result.exit_code == 4
    assert "404 NOT_FOUND: Model sfdc_ai__NoSuchModel not found" in result.stderr
    assert "model 'sfdc_ai__NoSuchModel' is not routable" in result.stderr and "apexgen models list" in result.stderr


def test_429_waits_for_retry_after_then_succeeds(cli: ModelsCli) -> None:
    cli.fake.replies.append(CannedReply(429, api_error("LIMIT_EXCEEDED", "Too many requests"), {"Retry-After": "1"}))

    result = cli.run("generate", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 0, result.output
    first, second = cli.fake.api_requests
    assert second.at - first.at >= 1.0
    assert second.json() == first.json() == {"prompt": "hi"}


def test_429_after_the_bounded_retries_exits_1(cli: ModelsCli) -> None:
    limited = CannedReply(
        429, api_error("LIMIT_EXCEEDED", "Too many requests for the server to handle"), {"Retry-After": "1"}
    )
    cli.fake.replies.extend([limited] * 4)

    started = time.monotonic()
    result = cli.run("generate", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 1
    assert (
        "429 LIMIT_EXCEEDED: Too many requests for the server to handle: rate limited after 3 retries" in result.stderr
    )
    assert len(cli.fake.api_requests) == 4
    assert time.monotonic() - started >= 3.0


def test_a_503_with_retry_after_is_retried_as_the_server_asks(cli: ModelsCli) -> None:
    cli.fake.replies.append(CannedReply(503, api_error("INTERNAL_ERROR", "Try later"), {"Retry-After": "1"}))

    result = cli.run("generate", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 0, result.output
    first, second = cli.fake.api_requests
    assert second.at - first.at >= 1.0


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_exit_1_without_retrying(cli: ModelsCli, status: int) -> None:
    cli.fake.replies.append(CannedReply(status, api_error("INTERNAL_ERROR", "Something broke")))

    result = cli.run("generate", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 1
    assert f"{status} INTERNAL_ERROR: Something broke: the Models API failed; try again later" in result.stderr
    assert len(cli.fake.api_requests) == 1


def test_a_rejected_request_exits_1_with_the_api_message(cli: ModelsCli) -> None:
    cli.fake.replies.append(CannedReply(400, api_error("REQUIRED_FIELD_MISSING", "prompt is required")))

    result = cli.run("generate", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 1
    assert "400 REQUIRED_FIELD_MISSING: prompt is required: the Models API rejected the request" in result.stderr


@pytest.mark.parametrize("status", [200, 502])
def test_a_body_that_is_not_json_gets_a_clear_message(cli: ModelsCli, status: int) -> None:
    page = b"<html><body>Gateway says hello</body></html>"
    cli.fake.replies.append(CannedReply(status, page, {"Content-Type": "text/html"}))

    result = cli.run("generate", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 1
    if status == 200:
        assert (
            "200 answer of 127.0.0.1" in result.stderr and "is not a JSON object (text/html, 44 bytes" in result.stderr
        )
        assert "'<html><body>Gateway says hello</body></html>'" in result.stderr
    else:
        assert "502 Bad Gateway: the Models API failed" in result.stderr


def test_a_json_answer_without_generated_text_is_reported(cli: ModelsCli) -> None:
    cli.fake.replies.append(CannedReply(200, {"id": "x", "generation": None}))

    result = cli.run("generate", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 1
    assert "holds no generated text" in result.stderr and "--json" in result.stderr


@pytest.mark.parametrize(
    ("answer", "complaint"),
    [
        ({"embeddings": [{"index": 0}, {"index": 1}]}, "holds no embeddings"),
        ({"embeddings": [{"index": 0, "embedding": [1.0, 0.0]}]}, "holds 1 embedding(s) for 2 input(s)"),
    ],
)
def test_an_embeddings_answer_that_does_not_fit_the_inputs_is_reported(
    cli: ModelsCli, answer: dict[str, Any], complaint: str
) -> None:
    cli.fake.replies.append(CannedReply(200, answer))

    result = cli.run("embed", "-m", EMBED_MODEL, "a", "b")

    assert result.exit_code == 1
    assert complaint in result.stderr


def test_detected_toxicity_is_reported_with_its_highest_category(cli: ModelsCli) -> None:
    scan = {
        "isDetected": True,
        "categories": [{"categoryName": "hate", "score": 0.12}, {"categoryName": "violence", "score": 0.87}],
    }
    answer = {"id": "x", "generation": {"id": "g-1", "generatedText": "...", "contentQuality": {"scanToxicity": scan}}}
    cli.fake.replies.append(CannedReply(200, answer))

    result = cli.run("generate", "-m", CHAT_MODEL, "hi")

    assert result.exit_code == 0
    assert "toxicity detected: highest category violence (0.87)" in result.stderr
    assert "tokens:" not in result.stderr  # this answer has no usage


def test_a_slow_answer_times_out_with_a_clear_message(cli: ModelsCli) -> None:
    cli.fake.replies.append(CannedReply(200, {"late": True}, delay=10))

    started = time.monotonic()
    result = cli.run("generate", "-m", CHAT_MODEL, "hi", "--http-timeout", "0.3")

    assert result.exit_code == 4
    assert "no answer from 127.0.0.1" in result.stderr and "within 0.3 s" in result.stderr
    assert "--http-timeout (or APEXGEN_HTTP_TIMEOUT)" in result.stderr
    assert time.monotonic() - started < 5
    assert len(cli.fake.api_requests) == 1  # a timed-out POST may have run: never resent


def test_an_unreachable_host_exits_4(cli: ModelsCli) -> None:
    closed_port = "https://127.0.0.1:9"  # discard port: nothing listens there

    result = cli.run("generate", "-m", CHAT_MODEL, "hi", SF_INSTANCE_URL=closed_port)

    assert result.exit_code == 4
    assert "cannot connect to 127.0.0.1:9: Connection refused" in result.stderr


def test_an_untrusted_certificate_exits_4_with_proxy_advice(cli: ModelsCli) -> None:
    result = cli.run("generate", "-m", CHAT_MODEL, "hi", REQUESTS_CA_BUNDLE=None, CURL_CA_BUNDLE=None)

    assert result.exit_code == 4
    assert "TLS certificate of 127.0.0.1" in result.stderr and "REQUESTS_CA_BUNDLE" in result.stderr


# --- models try --------------------------------------------------------------------------------

SPEC = """\
[project]
api_version = "65.0"

[models]
fast = "sfdc_ai__DefaultGPT4OmniMini"
vectors = "sfdc_ai__DefaultOpenAITextEmbeddingAda_002"

[[prompt]]
name = "SummarizeCase"
capability = "chat"
model = "fast"
system = "You summarize support cases for agents. Answer in {{at most}} three sentences."
template = "Subject: {subject}\\nDescription: {description}\\nPriority: {priority}"
inputs = [
  { name = "subject", required = true },
  { name = "description" },
  { name = "priority" },
]
localization = { default_locale = "en_US", input_locales = [{ locale = "en_US", probability = 0.6 }, { locale = "es_ES", probability = 0.4 }], expected_locales = ["en_US"] }
tags = { team = "support", app = "console" }

[[prompt]]
name = "DraftReply"
capability = "generate"
model = "fast"
template = "Write a reply to {customer} about: {topic}. Keep {{placeholders}} as they are."
inputs = [{ name = "customer" }, { name = "topic" }]

[[prompt]]
name = "CaseVectors"
capability = "embed"
model = "vectors"
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "apexgen.toml"
    path.write_text(SPEC, "utf-8")
    return path


def test_try_sends_a_chat_prompt_exactly_as_the_spec_merges_it(cli: ModelsCli, spec_file: Path) -> None:
    values = {"subject": "Printer on fire", "description": "Smoke from tray {2}", "priority": "High"}
    args = [f"--input={k}={v}" for k, v in values.items()]

    result = cli.run("try", "SummarizeCase", *args, "--spec", str(spec_file))

    assert result.exit_code == 0, result.output
    prompt = next(p for p in load_spec(spec_file).prompts if p.name == "SummarizeCase")
    (request,) = cli.fake.api_requests
    assert request.path == f"{API_PREFIX}/models/sfdc_ai__DefaultGPT4OmniMini/chat-generations"
    assert request.json() == {
        "messages": [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.render_prompt(values)},
        ],
        "localization": {
            "defaultLocale": "en_US",
            "inputLocales": [{"locale": "en_US", "probability": 0.6}, {"locale": "es_ES", "probability": 0.4}],
            "expectedLocales": ["en_US"],
        },
        "tags": {"app": "console", "team": "support"},
    }
    assert (
        request.json()["messages"][1]["content"]
        == "Subject: Printer on fire\nDescription: Smoke from tray {2}\nPriority: High"
    )
    assert result.stdout == cli.answer()["generationDetails"]["generations"][0]["content"] + "\n"
    assert "trying SummarizeCase (chat) on sfdc_ai__DefaultGPT4OmniMini" in result.stderr


def test_try_sends_a_generate_prompt_with_missing_inputs_merged_empty(cli: ModelsCli, spec_file: Path) -> None:
    result = cli.run("try", "draftreply", "-i", "CUSTOMER=Ada", "--spec", str(spec_file))

    assert result.exit_code == 0, result.output
    prompt = next(p for p in load_spec(spec_file).prompts if p.name == "DraftReply")
    (request,) = cli.fake.api_requests
    assert request.path == f"{API_PREFIX}/models/sfdc_ai__DefaultGPT4OmniMini/generations"
    assert request.json() == {"prompt": prompt.render_prompt({"customer": "Ada"})}
    assert request.json()["prompt"] == "Write a reply to Ada about: . Keep {placeholders} as they are."


def test_try_dry_run_prints_the_request_without_credentials_or_calls(cli: ModelsCli, spec_file: Path) -> None:
    result = cli.run(
        "try",
        "DraftReply",
        "-i",
        "customer=Ada",
        "-i",
        "topic=refunds",
        "--spec",
        str(spec_file),
        "--dry-run",
        SF_CLIENT_ID=None,
        SF_CLIENT_SECRET=None,
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "method": "POST",
        "path": "/models/sfdc_ai__DefaultGPT4OmniMini/generations",
        "body": {"prompt": "Write a reply to Ada about: refunds. Keep {placeholders} as they are."},
    }
    assert cli.fake.token_requests == [] and cli.fake.api_requests == []


def test_try_json_prints_the_raw_response(cli: ModelsCli, spec_file: Path) -> None:
    result = cli.run("try", "DraftReply", "-i", "topic=x", "--spec", str(spec_file), "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["result"] == cli.answer()


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["NoSuchPrompt"], "has no prompt 'NoSuchPrompt' (prompts: SummarizeCase, DraftReply, CaseVectors)"),
        (["SummarizeCase", "-i", "description=x"], "prompt 'SummarizeCase' needs input(s): subject"),
        (
            ["SummarizeCase", "-i", "subject=x", "-i", "colour=red"],
            "has no input 'colour' (inputs: subject, description, priority)",
        ),
        (["SummarizeCase", "-i", "subject"], "--input 'subject' must be NAME=VALUE"),
        (
            ["CaseVectors"],
            "prompt 'CaseVectors' (embed) has no template to try; use 'apexgen models embed --model sfdc_ai__DefaultOpenAITextEmbeddingAda_002 TEXT...'",
        ),
    ],
)
def test_try_usage_errors(cli: ModelsCli, spec_file: Path, args: list[str], complaint: str) -> None:
    result = cli.run("try", *args, "--spec", str(spec_file))

    assert result.exit_code == 2
    assert complaint in result.stderr
    assert cli.fake.api_requests == []


def test_try_reports_a_missing_spec(cli: ModelsCli, tmp_path: Path) -> None:
    result = cli.run("try", "X", "--spec", str(tmp_path / "apexgen.toml"))

    assert result.exit_code == 2
    assert "file not found" in result.stderr


def test_the_org_of_the_sf_cli_gives_the_my_domain_and_client_credentials_the_token(
    cli: ModelsCli, tmp_path: Path
) -> None:
    """-o, SF_TARGET_ORG or the project's .sf/config.json (--project-dir) names the org as for deploy; sf's own
    session token is never sent to the Models API."""
    project = tmp_path / "project"
    (project / ".sf").mkdir(parents=True)
    (project / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app", "default": true}]}')
    (project / ".sf/config.json").write_text('{"target-org": "dev"}')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answer = json.dumps({"status": 0, "result": {"accessToken": "00Dsf-session", "instanceUrl": cli.server.url}})
    (bin_dir / "sf").write_text(f"#!/bin/sh\n[ \"$4\" = dev ] && echo '{answer}'\n")
    (bin_dir / "sf").chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    for how in (["-o", "dev"], [], ["--project-dir", str(project)]):
        result = cli.run(
            "generate",
            "-m",
            CHAT_MODEL,
            "hi",
            *how,
            SF_INSTANCE_URL=None,
            PATH=path,
            SF_TARGET_ORG="dev" if not how else None,
        )
        assert result.exit_code == 0, result.output
    assert len(cli.fake.token_requests) == 3
    assert all("00Dsf-session" not in str(request) for request in cli.fake.api_requests)


def test_a_model_answer_reaches_the_terminal_as_text_not_escape_sequences(cli: ModelsCli) -> None:
    """Issue 23, item 12: answers with terminal escape sequences were printed raw."""
    answer = {
        "id": "gen-1",
        "generation": {"id": "gen-1\x1b]0;x\x07", "generatedText": "line one\n\x1b[2J\x1b]0;owned\x07\tline two\u202e"},
    }
    cli.fake.replies.append(CannedReply(200, answer))
    result = cli.run("generate", "-m", CHAT_MODEL, "hello")
    assert result.exit_code == 0, result.output
    assert result.stdout == "line one\n\\x1b[2J\\x1b]0;owned\\x07\tline two\\u202e\n"
    assert "\x1b" not in result.output
