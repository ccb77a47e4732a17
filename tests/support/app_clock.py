"""The application's clock (app/clock.py), moved by a test instead of sleeping, and put back after it.

In the test's own process, the `app_clock` fixture moves `app.clock.utcnow()` for the app the test
runs through httpx's ASGI transport. A server the test starts in another process reads the file
named by KEYWARD_TEST_CLOCK_FILE: `clock_file_setting(path, ahead)` writes the offset there and is the
setting to pass to `serve(...)` or `worker(...)`; `app.clock.write_clock_file` moves it later.
"""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app import clock


class AppClock:
    def advance(self, **by: float) -> None:
        """`advance(seconds=2)`, `advance(hours=1)`: what `timedelta` takes."""
        clock.advance(timedelta(**by))


@pytest.fixture
def app_clock() -> Iterator[AppClock]:
    clock.reset()
    yield AppClock()
    clock.reset()


def clock_file_setting(path: Path, ahead: timedelta) -> dict[str, str]:
    """Servers started with this setting run `ahead` of the real time (until the file is rewritten)."""
    clock.write_clock_file(str(path), ahead)
    return {"test_clock_file": str(path)}
