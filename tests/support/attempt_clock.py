"""A clock the throttling tests move by hand, so that windows are judged on the test's time, not the machine's.

Attempt counters (app/services/attempt_counters.py) read the time through `now_ms`; with real
time, a test of a one-second window fails whenever the machine is busy enough that three requests
take longer than the window. Here the clock stands still until the test advances it.
"""

import time
from collections.abc import Iterator

import pytest

from app.services import attempt_counters


class AttemptClock:
    def __init__(self) -> None:
        self._ms = int(time.time() * 1000)

    def now_ms(self) -> int:
        return self._ms

    def advance(self, seconds: float) -> None:
        self._ms += round(seconds * 1000)


@pytest.fixture
def attempt_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[AttemptClock]:
    clock = AttemptClock()
    monkeypatch.setattr(attempt_counters, "now_ms", clock.now_ms)
    yield clock
