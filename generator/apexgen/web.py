"""What both HTTP clients (the org's and the Models API's) need: one check of a URL given on the command
line, and urllib3 retries that survive a malformed Retry-After header."""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

from apexgen.errors import UsageError

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
