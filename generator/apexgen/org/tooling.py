"""The Tooling API on an authenticated connection (simple-salesforce's REST session)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from apexgen.errors import ApexgenError, ExitCode, UsageError
from apexgen.org.connect import Connection
from apexgen.org.polling import TransientError

RUN_LEVELS = ("RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg")
_NEXT_RECORDS = re.compile(r"^/services/data/v[\d.]+/")


class ToolingError(ApexgenError):
    exit_code = ExitCode.FINDINGS


class ToolingConnectionError(ApexgenError):
    """The org could not be reached, or the session is no longer valid: exit 4, as for every command."""

    exit_code = ExitCode.CONNECTION


def _get(sf: Any, path: str, timeout: Any) -> Any:
    """simple-salesforce's GET of ``path``, relative to the REST base URL."""
    return sf.restful(path, timeout=timeout)


def soql_quote(value: str) -> str:
    """``value`` as a SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class ToolingSession:
    """Tooling API calls on a Connection: logs in again once when the session expired (where it can)."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def _call(self, idempotent: bool, action: Callable[[Any], Any]) -> Any:
        import requests
        from simple_salesforce.exceptions import (
            SalesforceError,
            SalesforceExpiredSession,
        )

        for attempt in (1, 2):
            try:
                return action(self.connection.rest(idempotent=idempotent))
            except SalesforceExpiredSession:
                if attempt == 1 and self.connection.can_reauthenticate:
                    self.connection.reauthenticate()
                    continue
                raise ToolingConnectionError("the session expired (INVALID_SESSION_ID) and cannot be renewed") from None
            except SalesforceError as exc:
                if exc.status >= 500 and idempotent:
                    raise TransientError(f"Tooling API answered HTTP {exc.status}") from None
                content: Any = exc.content  # the decoded JSON body: a list of {message, errorCode}
                detail = content[0].get("message") if isinstance(content, list) and content else exc.status
                raise ToolingError(f"Tooling API: {detail}") from None
            except requests.RequestException:
                if idempotent:
                    raise TransientError("the connection to the org failed or was dropped") from None
                raise ToolingConnectionError(
                    "the connection to the org failed or dropped while starting the test run; it was not re-sent"
                ) from None
        raise AssertionError("unreachable: the second attempt returns or raises")

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every record ``soql`` selects: the org answers in pages (2,000 records at most), each but the last
        naming the next in ``nextRecordsUrl``; all are read."""
        timeout = self.connection.timeout
        self.connection.log(f"GET tooling/query {soql.split(' WHERE ')[0]}")
        answer = self._call(True, lambda sf: sf.restful("tooling/query/", params={"q": soql}, timeout=timeout))
        records: list[dict[str, Any]] = list(answer["records"])
        while not answer.get("done", True) and answer.get("nextRecordsUrl"):
            # /services/data/vNN.N/tooling/query/01g...-2000, relative to the REST base URL restful() takes
            path = _NEXT_RECORDS.sub("", answer["nextRecordsUrl"])
            self.connection.log("GET tooling/query (next page)")
            answer = self._call(True, partial(_get, path=path, timeout=timeout))
            records += answer["records"]
        return records

    def apex_symbols(self) -> dict[str, set[str]]:
        """The platform's Apex namespaces and the classes of each, lower case, as the org's compiler knows them:
        the Tooling API's completions for Apex (``publicDeclarations``: namespace -> class -> members), which
        IDEs complete from."""
        timeout = self.connection.timeout
        self.connection.log("GET tooling/completions?type=apex")
        answer = self._call(
            True, lambda sf: sf.restful("tooling/completions", params={"type": "apex"}, timeout=timeout)
        )
        declarations = answer.get("publicDeclarations", {}) if isinstance(answer, dict) else {}
        return {namespace.lower(): {name.lower() for name in classes} for namespace, classes in declarations.items()}

    def start(self, test_level: str, class_names: list[str]) -> str:
        if test_level not in RUN_LEVELS:
            raise UsageError(f"--test-level: apexgen test runs {', '.join(RUN_LEVELS)}, not {test_level}")
        body: dict[str, Any] = {"testLevel": test_level}
        if test_level == "RunSpecifiedTests":
            body["classNames"] = ",".join(class_names)
        timeout = self.connection.timeout
        self.connection.log("POST tooling/runTestsAsynchronous")
        return str(
            self._call(
                False, lambda sf: sf.toolingexecute("runTestsAsynchronous", method="POST", data=body, timeout=timeout)
            )
        )
