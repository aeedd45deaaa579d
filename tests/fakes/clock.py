"""Virtual time for tests against the fake org: polls that would wait seconds on the real clock take none.

The fake org reads ``org.clock``; apexgen's poll loop reads the ``time`` module of ``apexgen.org.polling``.
Pointing both at one VirtualClock makes every ``sleep`` of the poll loop move time forward at once, so a
deploy that lasts 30 s finishes after the same polls, in the same order, without the wait. Tests that run
the CLI in a subprocess keep the real clock (``@pytest.mark.real_clock``): the child process sleeps for real.
"""

from __future__ import annotations

import threading
import time

import pytest

# Virtual time starts where the real clock is, so timestamps in the fake's logs still look like times.
_EPOCH_OFFSET = time.time() - time.monotonic()


class VirtualClock:
    """``monotonic``, ``time`` and ``sleep`` as the time module has them; ``sleep`` only advances the clock."""

    def __init__(self) -> None:
        self._now = time.monotonic()
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def time(self) -> float:
        return self.monotonic() + _EPOCH_OFFSET

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._now += max(seconds, 0.0)


def clock_for(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> object:
    """The clock a fake org fixture should use: virtual, and apexgen's polling on it, unless the test is
    marked ``real_clock``."""
    if request.node.get_closest_marker("real_clock"):
        return time
    clock = VirtualClock()
    monkeypatch.setattr("apexgen.org.polling.time", clock)
    return clock
