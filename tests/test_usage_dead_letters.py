"""One bad row never blocks a batch: rows the database refuses are set aside, the rest is written.

The refusal is injected the way a database really refuses a row: a trigger (SQLite) or a CHECK
constraint (PostgreSQL) that rejects one token's update. Addresses that are not IP addresses
never reach the database at all (they are recorded as unknown), also when they already sit in Redis.
"""

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from tortoise.connection import get_connection

from app.models import ManagementToken
from app.settings import Settings
from app.usage import keys
from app.usage.flush import flush
from app.usage.memory import MemoryUsageBuffer
from app.usage.model import UsageKind, Use, to_micros
from app.usage.redis_buffer import RedisUsageBuffer
from tests.support.many_tokens import seed_tokens
from tests.support.throwaway_services import throwaway_postgres
from workers import context, jobs

MT = UsageKind.MANAGEMENT_TOKEN
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def dead_lettered(reason: str) -> float:
    return REGISTRY.get_sample_value("keyward_usage_uses_dead_lettered_total", {"reason": reason}) or 0.0


@contextlib.asynccontextmanager
async def refusing_updates_of(token_id: int) -> AsyncIterator[None]:
    """The database refuses any new last use of this one token, as a constraint would."""
    conn = get_connection("default")
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script(
            "ALTER TABLE management_token ADD CONSTRAINT test_refuses_one_token "
            f"CHECK (id <> {int(token_id)} OR last_used_at IS NULL)"
        )
        try:
            yield
        finally:
            await conn.execute_script("ALTER TABLE management_token DROP CONSTRAINT test_refuses_one_token")
    else:
        await conn.execute_script(
            "CREATE TRIGGER test_refuses_one_token BEFORE UPDATE OF last_used_at ON management_token "
            f"WHEN NEW.id = {int(token_id)} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
        try:
            yield
        finally:
            await conn.execute_script("DROP TRIGGER test_refuses_one_token")


@pytest_asyncio.fixture
async def redis_buffer(redis_url: str) -> AsyncIterator[RedisUsageBuffer]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield RedisUsageBuffer(client, timeout=5.0)
    await client.aclose()


def _uses(ids: list[int]) -> list[Use]:
    return [Use(MT, pk, T0 + timedelta(seconds=i), f"192.0.2.{i % 250 + 1}") for i, pk in enumerate(ids)]


async def _last_used(ids: list[int]) -> dict[int, datetime | None]:
    return dict(await ManagementToken.filter(id__in=ids).values_list("id", "last_used_at"))  # type: ignore[arg-type]


async def test_a_refused_row_in_redis_is_set_aside_and_the_rest_is_written(
    app: Starlette, redis_buffer: RedisUsageBuffer, caplog: pytest.LogCaptureFixture
) -> None:
    # given 40 uses in Redis, one of them of a token whose update the database refuses
    ids = await seed_tokens(40)
    bad = ids[17]
    uses = _uses(ids)
    await redis_buffer.record_many(uses)
    before = dead_lettered("refused")
    # when the flush runs (in batches of 8, so the bad row shares a batch with good ones)
    with caplog.at_level(logging.WARNING, logger="keyward.usage"):
        async with refusing_updates_of(bad):
            result = await flush(redis_buffer, batch_size=8)
    # then the 39 others are written, the buffer drained, and the bad one is in the dead letters
    written = await _last_used(ids)
    assert [pk for pk, at in written.items() if at is None] == [bad]
    assert all(written[use.id] == use.at for use in uses if use.id != bad)
    assert result.dead_lettered == 1 and result.uses == 40
    assert await redis_buffer.redis.exists(*keys.ALL) == 0
    [letter] = [orjson.loads(item) for item in await redis_buffer.redis.lrange(keys.DEAD_LETTERS, 0, -1)]
    assert letter["member"] == f"mt:{bad}" and letter["reason"] == "refused"
    assert letter["at"] == uses[17].at.isoformat() and letter["ip"] == uses[17].ip
    # with one log line naming it, and the metric counting it
    lines = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert len(lines) == 1 and f"mt:{bad}" in lines[0]
    # never with the database's DETAIL, which quotes the whole row (its token hash included)
    token_hash = (await ManagementToken.get(id=bad)).token_hash
    assert token_hash not in caplog.text and token_hash not in letter["error"]
    assert dead_lettered("refused") == before + 1


async def test_a_refused_row_in_the_in_process_buffer_is_set_aside(app: Starlette) -> None:
    # given the embedded buffer with 12 uses, two of the same token the database refuses
    ids = await seed_tokens(12)
    buffer = MemoryUsageBuffer()
    for use in _uses(ids) + [Use(MT, ids[3], T0 + timedelta(days=1), None)]:
        await buffer.record(use)
    before = dead_lettered("refused")
    # when it is flushed
    async with refusing_updates_of(ids[3]):
        result = await flush(buffer)
    # then the refused use is gone from the buffer (counted, not retried forever), the rest written
    assert len(buffer) == 0 and result.dead_lettered == 1
    written = await _last_used(ids)
    assert written[ids[3]] is None and sum(at is not None for at in written.values()) == 11
    assert dead_lettered("refused") == before + 1
    # and the next flush has nothing left to fail on
    assert (await flush(buffer)).uses == 0


async def test_the_stale_sweep_runs_although_redis_holds_a_refused_row(
    app: Starlette, redis_settings: Settings, redis_buffer: RedisUsageBuffer
) -> None:
    # given a refused row waiting in Redis beside a good one
    bad, good = await seed_tokens(2)
    await redis_buffer.record_many([Use(MT, bad, T0, None), Use(MT, good, T0, None)])
    settings = redis_settings.model_copy(update={"usage_flush_seconds": 0.1, "stale_sweep_settle_seconds": 0.1})
    ctx: dict[str, object] = {}
    await context.startup(ctx, settings)
    try:
        # when the worker's sweep job runs (it flushes first)
        async with refusing_updates_of(bad):
            outcome = await jobs.stale_sweep(ctx)
    finally:
        await context.shutdown(ctx)
    # then it ran to the end, the good use was written, and nothing is left in Redis
    assert outcome["sweep_id"] is not None
    assert (await _last_used([good]))[good] == T0
    assert await redis_buffer.redis.exists(*keys.ALL) == 0


# ---- addresses that are not IP addresses -----------------------------------------------------------

NOT_ADDRESSES = ["A" * 65, "A" * 64, "not-an-ip", "1.2.3.4.5", "1.2.3.256", "127.0.0.1, 10.0.0.1", "", "\x00"]
# Addresses, as a client may send them, and how they are stored.
ADDRESSES = {"2001:DB8:0:0::7": "2001:db8::7", "fe80::1%" + "x" * 70: "fe80::1", "::ffff:192.0.2.1": "192.0.2.1"}


async def test_an_address_that_is_not_an_ip_is_recorded_as_unknown(app: Starlette) -> None:
    # given uses recorded through the API process's recorder with what a forged header could carry
    ids = await seed_tokens(len(NOT_ADDRESSES) + len(ADDRESSES))
    usage = app.state.usage
    for pk, value in zip(ids, [*NOT_ADDRESSES, *ADDRESSES], strict=True):
        await usage.record(MT, pk, value, T0)
    # when they are flushed
    await usage.flush_now()
    # then the use counts, its address is unknown, and real addresses are stored in canonical form
    rows = dict(await ManagementToken.filter(id__in=ids).values_list("id", "last_used_ip"))  # type: ignore[arg-type]
    assert [rows[pk] for pk in ids[: len(NOT_ADDRESSES)]] == [None] * len(NOT_ADDRESSES)
    assert [rows[pk] for pk in ids[len(NOT_ADDRESSES) :]] == list(ADDRESSES.values())
    assert await ManagementToken.filter(id__in=ids, last_used_at=T0).count() == len(ids)


async def test_a_65_character_address_already_in_redis_is_dropped_and_the_batch_drains(
    app: Starlette, redis_buffer: RedisUsageBuffer
) -> None:
    # given entries an older version put into Redis: a 65-character "IP" beside a good use
    bad_ip, good_ip = await seed_tokens(2)
    redis = redis_buffer.redis
    await redis.zadd(keys.PENDING, {f"mt:{bad_ip}": to_micros(T0), f"mt:{good_ip}": to_micros(T0)})
    await redis.hset(keys.PENDING_IP, mapping={f"mt:{bad_ip}": "A" * 65, f"mt:{good_ip}": "198.51.100.9"})
    # when the flush runs
    result = await flush(redis_buffer)
    # then both uses are written, the bad address as unknown, and nothing is left to retry
    assert result.uses == 2 and result.dead_lettered == 0
    rows = dict(await ManagementToken.filter(id__in=[bad_ip, good_ip]).values_list("id", "last_used_ip"))  # type: ignore[arg-type]
    assert rows == {bad_ip: None, good_ip: "198.51.100.9"}
    assert await ManagementToken.filter(id__in=[bad_ip, good_ip], last_used_at=T0).count() == 2
    assert await redis.exists(*keys.ALL) == 0


async def test_entries_in_redis_that_are_not_uses_are_set_aside(app: Starlette, redis_buffer: RedisUsageBuffer) -> None:
    # given a good use among entries that cannot be read as uses (unknown kind, bad id, absurd times)
    [pk] = await seed_tokens(1)
    redis = redis_buffer.redis
    entries = {
        f"mt:{pk}": to_micros(T0),
        "zz:1": to_micros(T0),
        "mt:abc": to_micros(T0),
        f"mt:{2**64}": to_micros(T0),
        "mt:0": to_micros(T0),
        f"ak:{pk}": 1e300,
        "mt:7": -1e18,
    }
    await redis.zadd(keys.PENDING, entries)
    before = dead_lettered("unreadable")
    # when the flush runs
    result = await flush(redis_buffer)
    # then the good use is written, the others are set aside (not retried), and Redis is drained
    assert (await _last_used([pk]))[pk] == T0
    assert result.dead_lettered == len(entries) - 1
    assert dead_lettered("unreadable") == before + len(entries) - 1
    assert await redis.llen(keys.DEAD_LETTERS) == len(entries) - 1
    assert await redis.exists(*keys.ALL) == 0


# ---- an outage is not a refusal ----------------------------------------------------------------------


async def test_a_database_outage_sets_nothing_aside_and_the_batch_waits(
    database_url: str, redis_buffer: RedisUsageBuffer
) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("the outage runs on a PostgreSQL cluster of the test's own (the PostgreSQL pass)")
    from app import db
    from tests.support.running_app import running_api

    with throwaway_postgres() as pg:
        await db.migrate(pg.url)
        async with running_api(pg.url):
            ids = await seed_tokens(10)
            await redis_buffer.record_many(_uses(ids))
            before = dead_lettered("refused") + dead_lettered("unreadable")
            # when the database stops in the middle of the flush
            pg.stop()
            with pytest.raises(Exception):  # noqa: B017 (whatever the driver raises for a closed server)
                await flush(redis_buffer, batch_size=3)
            # then nothing was set aside and the taken batch waits in Redis
            assert dead_lettered("refused") + dead_lettered("unreadable") == before
            assert await redis_buffer.redis.scard(keys.ROUNDS) >= 1
            assert await redis_buffer.redis.llen(keys.DEAD_LETTERS) == 0
            # and once it is back, the next flush writes all of it
            pg.start()
            for _ in range(50):
                with contextlib.suppress(Exception):
                    await flush(redis_buffer, wait=None)
                    break
            assert sum(at is not None for at in (await _last_used(ids)).values()) == 10
            assert await redis_buffer.redis.exists(*keys.ALL) == 0
