"""A client of the Models REST API, with the request shapes the generated Apex sends.

The REST API (``https://api.salesforce.com/einstein/platform/v1``) takes the same JSON as
``aiplatform.ModelsAPI``: the Apex classes are generated from the same OpenAPI spec. Building requests
here with the spec's own template merge (``apexgen.spec.types``) is what lets ``apexgen models try`` send
exactly what a generated service would.

Authentication is the OAuth 2.0 client credentials flow of an External Client App against the org's
My Domain. The access token lives in memory only. No secret or token is ever part of a message this
module raises.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from apexgen.errors import ApexgenError, ExitCode, SpecError
from apexgen.spec.types import Localization, Prompt
from apexgen.untrusted import json_loads

DEFAULT_API_URL = "https://api.salesforce.com/einstein/platform/v1"
# Required by the API; both are "reserved for future use" and have these fixed values today.
REQUIRED_HEADERS = {
    "x-sfdc-app-context": "EinsteinGPT",
    "x-client-feature-id": "ai-platform-models-connected-app",
}
CHAT_ROLES = ("system", "user", "assistant")
# Apex callouts give up after 120 s, so a prompt that needs longer would fail in the org anyway.
DEFAULT_TIMEOUT = 120.0
# Rate limits are per minute: three waits cover one window without hanging a terminal for long.
MAX_RETRIES_ON_429 = 3
MAX_RETRY_AFTER_SECONDS = 60
# A JWT is renewed this long before its "exp", so it cannot expire between check and use.
TOKEN_RENEWAL_MARGIN = 60.0

SCOPES_ADVICE = (
    "check the External Client App: OAuth scopes 'api' and 'sfap_api', Client Credentials Flow enabled "
    "with a Run As user, and 'Issue JSON Web Token (JWT)-based access tokens for named users' selected"
)


class ModelsApiError(ApexgenError):
    """The Models API answered, but not with a usable result (rejected, rate limited, failed)."""

    exit_code = ExitCode.FINDINGS


class ModelsConnectionError(ModelsApiError):
    """No authenticated, routable connection to a model: credentials, scopes, network, timeout."""

    exit_code = ExitCode.CONNECTION


@dataclass(frozen=True)
class Credentials:
    """What the client credentials flow needs. ``repr`` hides the secret so it cannot leak into logs."""

    instance_url: str
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class ApiRequest:
    """One POST to the Models API: a path below the API base URL and its JSON body."""

    path: str
    body: dict[str, Any]
    model: str | None = None

    def document(self) -> dict[str, Any]:
        return {"method": "POST", "path": self.path, "body": self.body}


def _model_path(model: str, operation: str) -> str:
    return f"/models/{quote(model, safe='')}/{operation}"


def _options(localization: Localization | None, tags: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The optional ``localization`` and ``tags`` members, present only when the prompt sets them."""
    options: dict[str, Any] = {}
    if localization is not None:
        options["localization"] = {"defaultLocale": localization.default_locale}
        if localization.input_locales:
            options["localization"]["inputLocales"] = [
                {"locale": locale, "probability": probability} for locale, probability in localization.input_locales
            ]
        if localization.expected_locales:
            options["localization"]["expectedLocales"] = list(localization.expected_locales)
    if tags:
        options["tags"] = dict(tags)
    return options


def generate_request(
    model: str, prompt: str, localization: Localization | None = None, tags: tuple[tuple[str, str], ...] = ()
) -> ApiRequest:
    return ApiRequest(_model_path(model, "generations"), {"prompt": prompt, **_options(localization, tags)}, model)


def chat_request(
    model: str,
    messages: list[dict[str, str]],
    localization: Localization | None = None,
    tags: tuple[tuple[str, str], ...] = (),
) -> ApiRequest:
    return ApiRequest(
        _model_path(model, "chat-generations"), {"messages": messages, **_options(localization, tags)}, model
    )


def embed_request(model: str, texts: list[str]) -> ApiRequest:
    return ApiRequest(_model_path(model, "embeddings"), {"input": texts}, model)


def feedback_request(
    generation_id: str, rating: str, text: str = "", source: str = "human", feedback_id: str | None = None
) -> ApiRequest:
    """Feedback on a generation; ``rating`` is GOOD or BAD. Every feedback needs its own id."""
    return ApiRequest(
        "/feedback",
        {
            "id": feedback_id or str(uuid.uuid4()),
            "generationId": generation_id,
            "feedback": rating,
            "feedbackText": text,
            "source": source,
        },
    )


def read_conversation(text: str, name: str) -> list[dict[str, str]]:
    """A chat history file: a JSON list of ``{"role": "system"|"user"|"assistant", "content": "..."}``."""
    try:
        messages = json_loads(text)
    except ValueError as exc:
        raise SpecError(name, "", f"is not valid JSON: {exc}") from None
    if not isinstance(messages, list):
        raise SpecError(name, "", 'must be a JSON list of {"role": ..., "content": ...} messages')
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            raise SpecError(name, f"[{index}]", 'must be an object with exactly "role" and "content"')
        if message["role"] not in CHAT_ROLES:
            raise SpecError(name, f"[{index}].role", f"must be one of: {', '.join(CHAT_ROLES)}")
        if not isinstance(message["content"], str):
            raise SpecError(name, f"[{index}].content", "must be a string")
    return messages


def prompt_request(prompt: Prompt, values: dict[str, str]) -> ApiRequest:
    """The request the generated service of ``prompt`` sends for these input values."""
    assert prompt.model is not None, "generate and chat prompts always name a model"
    text = prompt.render_prompt(values)
    if prompt.capability == "generate":
        return generate_request(prompt.model.api_name, text, prompt.localization, prompt.tags)
    if prompt.capability == "chat":
        messages = [{"role": "system", "content": prompt.system}] if prompt.system is not None else []
        messages.append({"role": "user", "content": text})
        return chat_request(prompt.model.api_name, messages, prompt.localization, prompt.tags)
    raise ValueError(f"prompt capability '{prompt.capability}' has no template to try")


@dataclass(frozen=True)
class Generation:
    """What a person reads from a generate or chat response."""

    text: str
    generation_id: str | None
    usage: dict[str, Any] | None
    toxicity_detected: bool | None  # None: the response carries no toxicity scan
    highest_toxicity: tuple[str, float] | None  # the category with the highest score, when scored
    finish_reason: str | None = None  # stop, length (cut off), ...; None when the response does not say


def _dig(document: Any, *keys: str | int) -> Any:
    for key in keys:
        try:
            document = document[key]
        except (KeyError, IndexError, TypeError):
            return None
    return document


def read_generation(response: dict[str, Any]) -> Generation:
    """The text, generation id, token usage and toxicity of a generations or chat-generations response."""
    if "generationDetails" in response:
        generation = _dig(response, "generationDetails", "generations", 0)
        text = _dig(generation, "content")
        usage = _dig(response, "generationDetails", "parameters", "usage")
    else:
        generation = _dig(response, "generation")
        text = _dig(generation, "generatedText")
        usage = _dig(response, "parameters", "usage")
    if not isinstance(text, str):
        raise ModelsApiError(
            "the response holds no generated text (expected generation.generatedText or "
            "generationDetails.generations[0].content); run again with --json to see it"
        )
    scan = _dig(generation, "contentQuality", "scanToxicity")
    detected = _dig(scan, "isDetected")
    scores = [
        (str(c["categoryName"]), float(c["score"]))
        for c in _dig(scan, "categories") or []
        if isinstance(c, dict) and "categoryName" in c and isinstance(c.get("score"), (int, float))
    ]
    return Generation(
        text=text,
        generation_id=_dig(generation, "id"),
        usage=usage if isinstance(usage, dict) else None,
        toxicity_detected=detected if isinstance(detected, bool) else None,
        highest_toxicity=max(scores, key=lambda s: s[1]) if scores else None,
        finish_reason=finish if isinstance(finish := _dig(generation, "parameters", "finish_reason"), str) else None,
    )


@dataclass(frozen=True)
class Embeddings:
    vectors: list[list[float]]  # in the order of the inputs
    total_tokens: int | None


def read_embeddings(response: dict[str, Any], inputs: int) -> Embeddings:
    """The vectors of an embeddings response for ``inputs`` texts, ordered by their ``index`` (the API
    may list them in any order)."""
    items = response.get("embeddings")
    try:
        ordered = sorted(items, key=lambda item: item["index"])  # type: ignore[arg-type]
        vectors = [[float(x) for x in item["embedding"]] for item in ordered]
    except (TypeError, KeyError, ValueError):
        raise ModelsApiError(
            "the response holds no embeddings (expected embeddings[].embedding and .index); run again with --json to see it"
        ) from None
    if len(vectors) != inputs:
        raise ModelsApiError(f"the response holds {len(vectors)} embedding(s) for {inputs} input(s)")
    if len({len(vector) for vector in vectors}) > 1:
        sizes = ", ".join(str(len(vector)) for vector in vectors)
        raise ModelsApiError(
            f"the response's embeddings differ in length ({sizes} dimensions); they cannot be compared"
        )
    tokens = _dig(response, "parameters", "usage", "total_tokens")
    return Embeddings(vectors, tokens if isinstance(tokens, int) else None)


def cosine(a: list[float], b: list[float]) -> float:
    norms = math.hypot(*a) * math.hypot(*b)
    return dot(a, b) / norms if norms else 0.0


def dot(a: list[float], b: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def euclidean(a: list[float], b: list[float]) -> float:
    return math.dist(a, b)


# The measures the generated <prefix>Vectors class offers, under the names the spec's `similarity` uses.
SIMILARITY: dict[str, Callable[[list[float], list[float]], float]] = {
    "cosine": cosine,
    "dot": dot,
    "euclidean": euclidean,
}


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT access token (read, not verified: the API verifies it), if any."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) else None


def _reason(exc: Exception) -> str:
    """A short reason for a network failure, e.g. 'Connection refused', without urllib3's object dumps."""
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    return found.group(1).strip() if found else type(exc).__name__


class ModelsClient:
    """Sends ``ApiRequest``s with a cached access token, retrying 429 answers as the server asks."""

    def __init__(
        self,
        credentials: Credentials,
        api_url: str = DEFAULT_API_URL,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ):
        import requests
        from requests.adapters import HTTPAdapter

        from apexgen.web import credential_session_class, https_url, lenient_retry

        for flag, url in (("--instance-url", credentials.instance_url), ("--api-url", api_url)):
            https_url(flag, url, assume_https=False)
        self._credentials = credentials
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._clock = clock
        self._token: str | None = None
        self._token_expiry: float | None = None
        # Only answers that say the request did not run are retried, so a retry cannot bill twice:
        # 429, and (urllib3's rule) a 503 that carries Retry-After. Without Retry-After a 429 waits
        # 0, 2, then 4 s. A POST that failed while its answer was read may have run: read errors are
        # raised unwrapped (False), never retried, which also lets requests call a timeout a timeout.
        retry = lenient_retry()(
            total=MAX_RETRIES_ON_429,
            connect=0,
            read=False,
            other=0,
            status=MAX_RETRIES_ON_429,
            status_forcelist={429},
            allowed_methods={"POST"},
            backoff_factor=1.0,
            respect_retry_after_header=True,
            retry_after_max=MAX_RETRY_AFTER_SECONDS,
            raise_on_status=False,
        )
        self._session = credential_session_class()()
        self._session.mount("https://", HTTPAdapter(max_retries=retry))
        self._requests = requests

    def send(self, request: ApiRequest) -> dict[str, Any]:
        """POST ``request`` and return the JSON response; a refused token is renewed once."""
        response = self._post_with_token(request)
        if response.status_code == 401:
            self._token = None
            response = self._post_with_token(request)
        self._raise_for_status(response, request)
        return self._json(response)

    def _post_with_token(self, request: ApiRequest) -> Any:
        headers = {
            **REQUIRED_HEADERS,
            "Authorization": f"Bearer {self._access_token()}",
            "Content-Type": "application/json;charset=utf-8",
            "Accept": "application/json",
        }
        return self._post(self._api_url + request.path, headers=headers, data=json.dumps(request.body).encode("utf-8"))

    def _post(self, url: str, **kwargs: Any) -> Any:
        host = urlsplit(url).netloc
        try:
            return self._session.post(url, timeout=self._timeout, **kwargs)
        except self._requests.exceptions.Timeout:
            raise ModelsConnectionError(
                f"no answer from {host} within {self._timeout:g} s; try again, or allow longer with "
                "--http-timeout (or APEXGEN_HTTP_TIMEOUT)"
            ) from None
        except self._requests.exceptions.SSLError as exc:
            raise ModelsConnectionError(
                f"TLS certificate of {host} could not be verified ({_reason(exc)}); behind a proxy that "
                "re-signs TLS, point REQUESTS_CA_BUNDLE at its CA bundle"
            ) from None
        except self._requests.exceptions.RequestException as exc:
            raise ModelsConnectionError(f"cannot connect to {host}: {_reason(exc)}") from None

    def _access_token(self) -> str:
        fresh = self._token_expiry is None or self._clock() < self._token_expiry - TOKEN_RENEWAL_MARGIN
        if self._token is None or not fresh:
            self._token, self._token_expiry = self._fetch_token()
        return self._token

    def _fetch_token(self) -> tuple[str, float | None]:
        url = self._credentials.instance_url.rstrip("/") + "/services/oauth2/token"
        response = self._post(
            url,
            data={
                "grant_type": "client_credentials",
                "client_id": self._credentials.client_id,
                "client_secret": self._credentials.client_secret,
            },
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise ModelsConnectionError(self._token_failure(response, url))
        token = self._json(response).get("access_token")
        if not isinstance(token, str) or not token:
            raise ModelsConnectionError(f"the token response of {url} holds no access_token")
        return token, jwt_expiry(token)

    def _token_failure(self, response: Any, url: str) -> str:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):  # an HTML page, a JSON list: no error to read from it
            body = {}
        error, description = str(body.get("error", "")), str(body.get("error_description", ""))
        said = self._redact(": ".join(x for x in (error, description) if x)) or response.reason
        message = f"token request to {url} failed ({response.status_code} {said}); "
        if "not supported on this domain" in description:
            return message + "use the org's My Domain URL (Setup > My Domain) as --instance-url / SF_INSTANCE_URL"
        if error == "invalid_client" or response.status_code == 401:
            return message + (
                "check the consumer key and secret (External Client App Manager > the app > Settings > "
                "OAuth Settings > Consumer Key and Secret)"
            )
        return message + SCOPES_ADVICE

    def _raise_for_status(self, response: Any, request: ApiRequest) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        said = self._error_text(response)
        if status in (401, 403):
            refused = "was refused twice" if status == 401 else "is not allowed to use the Models API"
            raise ModelsConnectionError(f"{status} {said}: the access token {refused}; {SCOPES_ADVICE}")
        if status == 404:
            what = (
                f"model '{request.model}' is not routable for this org"
                if request.model
                else "not routable for this org"
            )
            raise ModelsConnectionError(
                f"404 {said}: {what}; check the model API name ('apexgen models list'; a configured model needs "
                "its Einstein Studio API name), that Einstein generative AI is on in the org, and that the "
                "token comes from the External Client App (an 'sf org display' session token gets 404)"
            )
        if status == 429:
            raise ModelsApiError(
                f"429 {said}: rate limited after {MAX_RETRIES_ON_429} retries; wait a minute and try again"
            )
        if status >= 500:
            raise ModelsApiError(f"{status} {said}: the Models API failed; try again later")
        raise ModelsApiError(f"{status} {said}: the Models API rejected the request")

    def _error_text(self, response: Any) -> str:
        """``errorCode: message`` of the API's error shape, or the HTTP reason when the body has none."""
        try:
            body = response.json()
        except ValueError:
            return response.reason or "error"
        if not isinstance(body, dict):
            return response.reason or "error"
        parts = [str(body[k]) for k in ("errorCode", "message") if body.get(k)]
        return self._redact(": ".join(parts)) if parts else response.reason or "error"

    def _json(self, response: Any) -> dict[str, Any]:
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            content_type = response.headers.get("Content-Type") or "no content type"
            excerpt = self._redact(response.text[:80].strip()) or "(empty)"
            raise ModelsApiError(
                f"{response.status_code} answer of {urlsplit(response.url).netloc} is not a JSON object "
                f"({content_type}, {len(response.content)} bytes, starting: {excerpt!r}); check --api-url and "
                "--instance-url"
            )
        return document

    def _redact(self, text: str) -> str:
        """``text`` with the client secret and the access token masked, should a server echo them."""
        for secret in (self._credentials.client_secret, self._token):
            if secret:
                text = text.replace(secret, "***")
        return text
