"""Five-field cron expressions (``minute hour day month weekday``, UTC) turned into arq's cron options.

One parser serves both schedulers: the arq worker's ``cron(...)`` and the embedded mode's loop
(which uses arq's own ``next_cron``, so both agree on when a tick is).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from arq.cron import next_cron

from app.clock import utcnow

log = logging.getLogger("keyward.cron")

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))


class InvalidCron(ValueError):
    pass


def _field(text: str, low: int, high: int) -> set[int] | None:
    if text == "*":
        return None
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            start_text, _, end_text = base.partition("-")
            start, end = int(start_text), int(end_text)
        else:
            start = int(base)
            end = high if step_text else start
        if step < 1 or not low <= start <= end <= high:
            raise InvalidCron(f"{part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def is_off(expression: str) -> bool:
    """`off` turns a schedule off (e.g. the sweep runs from the operator's own scheduler instead)."""
    return expression.strip().lower() == "off"


def cron_options(expression: str) -> dict[str, Any]:
    """`"17 3 * * *"` → `{"minute": {17}, "hour": {3}, "second": 0}` (keyword arguments for arq's cron)."""
    parts = expression.split()
    if len(parts) != 5:
        raise InvalidCron(f"expected 5 fields (minute hour day month weekday), got {expression!r}")
    options: dict[str, Any] = {"second": 0}
    try:
        for text, (name, low, high) in zip(parts, _FIELDS, strict=True):
            values = _field(text, low, high)
            if values is not None and name == "weekday":
                values = {(v - 1) % 7 for v in values}  # cron: 0 and 7 are Sunday; arq: Monday is 0
            if values is not None:
                options[name] = values
    except ValueError as exc:
        raise InvalidCron(f"invalid cron expression {expression!r}: {exc}") from exc
    return options


def every_seconds(seconds: float) -> dict[str, Any]:
    """arq cron options for "every N seconds" (N rounded; steps align to the minute or the hour)."""
    step = max(1, round(seconds))
    if step < 60:
        return {"second": set(range(0, 60, step))}
    minutes = max(1, round(step / 60))
    return {"minute": set(range(0, 60, minutes)), "second": 0}


def next_tick(expression: str, after: datetime) -> datetime:
    return next_cron(after, microsecond=0, **cron_options(expression))


async def run_on_schedule(expression: str, job: Callable[[datetime], Awaitable[object]]) -> None:
    """Call `job(tick)` at every tick of `expression`, forever; a failing run is logged, not fatal."""
    if is_off(expression):
        return
    cron_options(expression)  # fail at start-up, not at the first tick
    while True:
        tick = next_tick(expression, utcnow())
        await asyncio.sleep(max(0.0, (tick - utcnow()).total_seconds()))
        try:
            await job(tick)
        except Exception:
            log.exception("scheduled job failed at %s", tick.isoformat())
