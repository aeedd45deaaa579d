"""What both HTTP clients (the org's and the Models API's) need: one check of a URL given on the command
line, a session that never carries credentials to another origin, and urllib3 retries that survive a
malformed Retry-After header."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

from apexgen.errors import ApexgenError, ExitCode, UsageError, one_line
from apexgen.untrusted import MAX_ANSWER_BYTES, json_loads

# A DNS name (labels of letters, digits and inner hyphens) or an IP address (urlsplit drops IPv6's brackets).
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]+"
)


def https_url(flag: str, url: str, assume_https: bool = True) -> SplitResult:
    """``url`` split, when it is an https URL of a host; else a UsageError naming ``flag``.

    A URL that carries a user name or password is refused without being repeated: it holds a secret.
    With ``assume_https``, a bare host name (``acme.my.salesforce.com``) is taken as https.
    """
    try:
        parts = urlsplit(f"https://{url}" if assume_https and "://" not in url else url)
        parts.port  # noqa: B018 - reading the port is what checks it
    except ValueError as exc:
        raise UsageError(f"{flag}: not a valid URL ({exc})") from None
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            f"{flag}: the URL must not hold a user name or password (it is not shown here); "
            "give credentials through their environment variables or files"
        )
    if parts.scheme != "https" or not _HOST.fullmatch(parts.hostname or ""):
        raise UsageError(f"{flag}: {url!r} is not an https URL such as https://login.salesforce.com")
    return parts


class AnswerRefused(ApexgenError):
    """An answer apexgen does not read: too large, cut short, nested too deeply, or a redirect it refuses."""

    exit_code = ExitCode.CONNECTION


class RedirectRefused(AnswerRefused):
    """A server redirected a request that carries credentials to another scheme, host or port."""


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


def refuse_cross_origin(url: str, location: str) -> None:
    """RedirectRefused when ``location`` (a redirect's target, maybe relative) leaves ``url``'s origin.

    Every request apexgen sends carries a secret: a session id or token in a header or the SOAP envelope,
    a password, a client secret, a JWT assertion. A redirect to another host would hand it over; one to
    http:// would send it in clear. So a redirect is followed only within the same https scheme, host
    and port; any other is an error naming where it led (without its query, which may hold anything).
    """
    source, target = urlsplit(url), urlsplit(urljoin(url, location))
    try:
        same = _origin(source) == _origin(target)
    except ValueError:  # a port that is not a number
        same = False
    if not same:
        shown = one_line(f"{target.scheme}://{target.netloc.rpartition('@')[2]}{target.path}")
        raise RedirectRefused(
            f"{source.scheme}://{source.netloc} redirected the request to {shown}: refused, as the request "
            "carries credentials and a redirect is followed only to the same https host"
        )


@cache
def credential_session_class() -> Any:
    """A requests.Session whose redirects stay on the origin of the request (see ``refuse_cross_origin``):
    what every client of an org or of the Models API sends through."""
    import requests

    class SameOriginSession(requests.Session):
        def get_redirect_target(self, resp: Any) -> str | None:
            target: str | None = super().get_redirect_target(resp)
            if target is not None:
                refuse_cross_origin(resp.url, target)
            return target

        def send(self, request: Any, **kwargs: Any) -> Any:
            """Send, and read the answer within ``read_answer``'s bounds (unless the caller streams it)."""
            stream = kwargs.pop("stream", False)
            response = super().send(request, stream=True, **kwargs)
            if not stream:
                read_answer(response, requests.exceptions.RequestException)
            return response

    return SameOriginSession


def read_answer(response: Any, network_errors: type[Exception]) -> None:
    """Read ``response``'s body into it, refusing one larger than MAX_ANSWER_BYTES (before it is read whole),
    one that ends before its announced length, and JSON nested beyond what can be read."""
    host = urlsplit(response.url).netloc
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(1 << 20):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                response.close()
                raise AnswerRefused(
                    f"the answer of {host} is larger than {MAX_ANSWER_BYTES // (1 << 20)} MB; refused before reading it all"
                )
            chunks.append(chunk)
    except network_errors as exc:
        if "IncompleteRead" in repr(exc) or "ended prematurely" in str(exc):
            raise AnswerRefused(
                f"the answer of {host} ended before its announced length (the connection was cut); try again"
            ) from None
        raise
    response._content = b"".join(chunks)
    if "json" in response.headers.get("Content-Type", ""):
        try:
            json_loads(response._content)
        except json.JSONDecodeError as exc:
            if exc.msg.startswith("nested"):
                raise AnswerRefused(f"the answer of {host} is JSON {exc.msg}; refused") from None


@cache
def lenient_retry() -> Any:
    """urllib3's Retry, except that a Retry-After that is neither seconds nor an HTTP date ("soon") is
    waited out like an absent one, instead of failing the request as an invalid header."""
    from urllib3.exceptions import InvalidHeader
    from urllib3.util.retry import Retry

    class LenientRetry(Retry):
        def get_retry_after(self, response: Any) -> float | None:
            try:
                return super().get_retry_after(response)
            except InvalidHeader:
                return None

    return LenientRetry
