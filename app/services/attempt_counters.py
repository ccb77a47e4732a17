"""Fixed-window attempt counters in the database, counted by one atomic statement each.

`count` adds an attempt to a bucket and returns the new count in the same statement (an upsert
with RETURNING): of 60 concurrent callers exactly one sees 1, one sees 2, ... one sees 60, on
PostgreSQL and SQLite alike, so a budget holds under any concurrency and a new bucket never meets a
unique violation. A window starts with the bucket's first attempt; the attempt that spends the
budget restarts the window's end from its own time, so a spent budget stays closed for one full
window (as a lock-out does), and attempts beyond the budget never move it: nobody can keep a bucket
closed by hammering it. `refund` takes back an attempt that did not spend the budget (it
succeeded, or a later check refused it before any work).

Buckets are stored as the SHA-256 of their scope and key: an email someone tried leaves no
readable trace. Expired rows are deleted now and then by the process that counts.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from tortoise import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.expressions import F

from app.models import AttemptCounter
from app.sql_dialect import Dialect, statement

PRUNE_EVERY_SECONDS = 60.0

# Parameters: 1 bucket, 2 now, 3 now + window, 4 budget (all times in ms).
_COUNT = (
    "INSERT INTO attempt_counter (bucket, attempts, window_started_ms, window_ends_ms) VALUES ({1}, 1, {2}, {3}) "
    "ON CONFLICT (bucket) DO UPDATE SET "
    "attempts = CASE WHEN attempt_counter.window_ends_ms <= {2} THEN 1 ELSE attempt_counter.attempts + 1 END, "
    "window_started_ms = CASE WHEN attempt_counter.window_ends_ms <= {2} THEN {2} "
    "ELSE attempt_counter.window_started_ms END, "
    "window_ends_ms = CASE WHEN attempt_counter.window_ends_ms <= {2} THEN {3} "
    "WHEN attempt_counter.attempts + 1 = {4} THEN {3} ELSE attempt_counter.window_ends_ms END "
    "RETURNING attempts, window_started_ms, window_ends_ms"
)
_MARK = (
    "INSERT INTO attempt_counter (bucket, attempts, window_started_ms, window_ends_ms) VALUES ({1}, 0, {2}, {3}) "
    "ON CONFLICT (bucket) DO UPDATE SET window_started_ms = {2}, window_ends_ms = {3}"
)


def _numbered(template: str) -> Callable[[BaseDBAsyncClient], str]:
    """The template with {1}..{4} as the connection's numbered placeholders (app/sql_dialect.py)."""

    def build(dialect: Dialect) -> str:
        sql = template
        for n in range(1, 5):
            sql = sql.replace(f"{{{n}}}", dialect.param(n))
        return sql

    return statement(build)


_COUNT_SQL = _numbered(_COUNT)
_MARK_SQL = _numbered(_MARK)
_next_prune = 0.0


def bucket(scope: str, *key: str) -> str:
    return hashlib.sha256("\x00".join((scope, *key)).encode()).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Count:
    bucket: str
    attempts: int  # including the one just counted
    window_started_ms: int
    window_ends_ms: int

    def seconds_left(self) -> float:
        return max(0.0, (self.window_ends_ms - now_ms()) / 1000)


async def count(bucket_id: str, budget: int, window_seconds: float) -> Count:
    """Adds one attempt to the bucket's current window (a new window if the last one ended)."""
    await _prune_now_and_then()
    now = now_ms()
    conn = get_connection("default")
    rows = await conn.execute_query_dict(_COUNT_SQL(conn), [bucket_id, now, now + int(window_seconds * 1000), budget])
    row = rows[0]
    return Count(bucket_id, int(row["attempts"]), int(row["window_started_ms"]), int(row["window_ends_ms"]))


async def refund(counted: Count) -> None:
    """Takes back one attempt, if the window it was counted in is still the bucket's window."""
    await AttemptCounter.filter(
        bucket=counted.bucket, window_started_ms=counted.window_started_ms, attempts__gt=0
    ).update(attempts=F("attempts") - 1)


async def mark(bucket_id: str, seconds: float) -> None:
    """A flag that holds for `seconds` (no attempts): e.g. "this address logged in to this account"."""
    now = now_ms()
    conn = get_connection("default")
    await conn.execute_query(_MARK_SQL(conn), [bucket_id, now, now + int(seconds * 1000)])


async def is_marked(bucket_id: str) -> bool:
    return await AttemptCounter.exists(bucket=bucket_id, window_ends_ms__gt=now_ms())


async def _prune_now_and_then() -> None:
    global _next_prune
    if time.monotonic() < _next_prune:
        return
    _next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
    await AttemptCounter.filter(window_ends_ms__lte=now_ms()).delete()
