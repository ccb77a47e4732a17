"""Cron expressions for the sweep schedule and flush intervals."""

from datetime import UTC, datetime

import pytest

from app.cron import InvalidCron, cron_options, every_seconds, is_off, next_tick

SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("17 3 * * *", datetime(2026, 11, 29, 3, 17, tzinfo=UTC)),
        ("*/15 * * * *", datetime(2026, 11, 28, 12, 15, tzinfo=UTC)),
        ("0 6 * * 1", datetime(2026, 11, 30, 6, 0, tzinfo=UTC)),  # Monday
        ("0 6 * * 0", datetime(2026, 11, 29, 6, 0, tzinfo=UTC)),  # Sunday
        ("0 0 1 1,7 *", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
        ("30 8-9 * * *", datetime(2026, 11, 29, 8, 30, tzinfo=UTC)),
    ],
)
def test_next_tick(expression: str, expected: datetime) -> None:
    assert next_tick(expression, SATURDAY_NOON) == expected


@pytest.mark.parametrize("expression", ["", "* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "a * * * *"])
def test_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(InvalidCron):
        cron_options(expression)


def test_off_and_intervals() -> None:
    assert is_off("off") and is_off(" OFF ") and not is_off("0 0 * * *")
    assert every_seconds(10) == {"second": {0, 10, 20, 30, 40, 50}}
    assert every_seconds(0.2) == {"second": set(range(60))}
    assert every_seconds(300) == {"minute": set(range(0, 60, 5)), "second": 0}
