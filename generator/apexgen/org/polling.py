"""Waiting for work the org does: a fixed poll grid, a deadline, and transient failures that cost one poll.

Polling runs on a fixed grid (0.5 s, then every 1 s by default) rather than "sleep after each answer", so a
slow answer does not add to the interval: the org finishing is seen within about a second, and a long job
costs at most one status call per interval. Transient failures of a status call (connection reset,
timeout, 5xx, after the transport's own retries) do not end the wait; the next poll simply follows.
The clock and the sleep are parameters, so tests run the grid on a fake clock.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from apexgen.errors import ApexgenError, ExitCode, UsageError

FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 1.0
MAX_CONSECUTIVE_POLL_ERRORS = 30
T = TypeVar("T")


class TransientError(ApexgenError):
    """A status call failed in a way that may pass: connection reset, timeout, 5xx. The caller polls again."""

    exit_code = ExitCode.CONNECTION


class WaitExpired(ApexgenError):
    """--wait ran out while the org was still working; the deploy goes on and can be resumed."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, job_id: str, status: str | None, waited: float):
        self.job_id, self.status = job_id, status
        super().__init__(f"the wait of {waited:g} s ran out; {job_id} is still {status or 'running'} in the org")


def poll_intervals(first: float = FIRST_POLL_SECONDS, longest: float = MAX_POLL_SECONDS) -> Iterator[float]:
    interval = first
    while True:
        yield interval
        interval = min(interval * 2, longest)


def poll_until(
    fetch: Callable[[], T | None],
    is_final: Callable[[T], bool],
    *,
    job_id: str,
    wait_seconds: float,
    status_of: Callable[[T], str],
    on_progress: Callable[[T], None] = lambda value: None,
    on_retry: Callable[[str], None] = lambda message: None,
    intervals: Iterator[float] | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Call ``fetch`` on the poll grid until it returns a final value; raises WaitExpired when the wait runs out.

    ``intervals`` spaces the polls (default: poll_intervals, for jobs of seconds to minutes).
    ``fetch`` raising TransientError (after the transport's own retries) costs one poll, not the wait."""
    # Looked up at each call, not bound at import: tests run the grid on a fake clock.
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    started = clock()
    deadline = started + wait_seconds
    intervals = intervals or poll_intervals()
    next_poll = started + next(intervals)
    last: T | None = None
    errors = 0
    while True:
        if next_poll > deadline:
            if clock() >= deadline:
                raise WaitExpired(job_id, status_of(last) if last is not None else None, wait_seconds)
            next_poll = deadline  # one last look when the wait ends
        delay = next_poll - clock()
        if delay > 0:
            sleep(delay)
        try:
            value = fetch()
        except TransientError as exc:
            errors += 1
            if errors >= MAX_CONSECUTIVE_POLL_ERRORS:
                raise TransientError(f"{exc} ({errors} status calls in a row failed)") from None
            on_retry(f"{exc}; polling again")
        else:
            errors = 0
            if value is not None:
                last = value
                on_progress(value)
                if is_final(value):
                    return value
        next_poll = max(next_poll + next(intervals), clock())


def parse_wait(value: str) -> float:
    """Seconds from a --wait value: minutes as a number (like the sf CLI), or with an s/m/h unit."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", value)
    if not match:
        raise UsageError(f"--wait: {value!r} is not a duration such as 33 (minutes), 90s, 10m or 1h")
    number, unit = float(match.group(1)), match.group(2) or "m"
    return number * {"s": 1, "m": 60, "h": 3600}[unit]
