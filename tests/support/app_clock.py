"""The application's clock (app/clock.py), moved by a test and put back after it."""

from collections.abc import Iterator
from datetime import timedelta

import pytest

from app import clock


class AppClock:
    def advance(self, **by: float) -> None:
        clock.advance(timedelta(**by))


@pytest.fixture
def app_clock() -> Iterator[AppClock]:
    clock.reset()
    yield AppClock()
    clock.reset()
