"""Last-used batching: the buffer keeps the newest use, the flush writes it set-based and never backwards."""

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from app.graphql.ids import pk_of
from app.models import ManagementToken
from app.usage import keys
from app.usage.flush import flush
from app.usage.lease import LeaseLost
from app.usage.memory import MemoryUsageBuffer
from app.usage.model import UsageKind, Use
from app.usage.redis_buffer import RedisUsageBuffer
from tests.support.api import ALL_PERMISSIONS, Api
from tests.support.sql_statements import statements, token_row, updates_of

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MT = UsageKind.MANAGEMENT_TOKEN


async def _tokens(api: Api, count: int) -> list[int]:
    owner = await api.sign_up()
    ids = []
    for _ in range(count):
        global_id, _secret = await api.create_token(owner, ["VIEW_PROJECTS"])
        pk = pk_of(global_id, "ManagementToken")
        assert pk is not None
        ids.append(pk)
    return ids


def _uses(token_ids: list[int], per_token: int, seed: int) -> list[Use]:
    """`per_token` uses of every token at distinct times, shuffled (arrival order is not time order)."""
    rng = random.Random(seed)  # noqa: S311
    uses = [
        Use(
            MT,
            pk,
            T0 + timedelta(seconds=rng.randrange(0, 86_400), microseconds=rng.randrange(1_000_000)),
            f"198.51.100.{rng.randrange(1, 255)}",
        )
        for pk in token_ids
        for _ in range(per_token)
    ]
    rng.shuffle(uses)
    return uses


def _newest(uses: list[Use]) -> dict[int, Use]:
    out: dict[int, Use] = {}
    for use in uses:
        if use.id not in out or use.at > out[use.id].at:
            out[use.id] = use
    return out


async def _assert_db_matches(expected: dict[int, Use]) -> None:
    rows = {r.id: r for r in await ManagementToken.filter(id__in=list(expected))}
    for pk, use in expected.items():
        assert rows[pk].last_used_at == use.at, pk
        assert rows[pk].last_used_ip == use.ip, pk


@pytest.fixture
async def redis_buffer(redis_url: str):
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield RedisUsageBuffer(client, timeout=5.0)
    await client.aclose()


async def test_n_uses_of_m_tokens_take_one_update_per_batch_in_memory(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given 1,000 uses of 40 tokens, in random order, in the in-process buffer
    token_ids = await _tokens(api, 40)
    uses = _uses(token_ids, 25, seed=1)
    buffer = MemoryUsageBuffer()
    for use in uses:
        await buffer.record(use)
    # when it is flushed in batches of 15 tokens
    with statements(monkeypatch) as seen:
        result = await flush(buffer, batch_size=15)
    # then 40 tokens / 15 per batch = 3 UPDATE statements, and every token has its newest use
    assert len(updates_of(seen, "management_token")) == 3 == result.batches
    assert result.uses == 40
    await _assert_db_matches(_newest(uses))


async def test_n_uses_of_m_tokens_take_one_update_per_batch_in_redis(
    api: Api, redis_buffer: RedisUsageBuffer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given 1,500 uses of 30 tokens recorded in Redis in random order
    token_ids = await _tokens(api, 30)
    uses = _uses(token_ids, 50, seed=2)
    await asyncio.gather(*(redis_buffer.record(use) for use in uses))
    assert not redis_buffer.degraded and len(redis_buffer.fallback) == 0
    # when one flush runs with the default batch size
    with statements(monkeypatch) as seen:
        result = await flush(redis_buffer)
    # then one UPDATE for all 30 tokens, the newest use of each, and the buffer is empty
    assert len(updates_of(seen, "management_token")) == 1
    assert result.uses == 30
    await _assert_db_matches(_newest(uses))
    assert await redis_buffer.redis.exists(*keys.ALL) == 0


async def test_an_older_use_never_moves_last_used_back(api: Api, redis_buffer: RedisUsageBuffer) -> None:
    # given a token whose newest use is already in the database
    [pk] = await _tokens(api, 1)
    await redis_buffer.record(Use(MT, pk, T0 + timedelta(hours=5), "192.0.2.5"))
    await flush(redis_buffer)
    # when older uses arrive later (a slow process, a replayed batch) and are flushed
    await redis_buffer.record(Use(MT, pk, T0 + timedelta(hours=1), "192.0.2.1"))
    memory = MemoryUsageBuffer()
    await memory.record(Use(MT, pk, T0 + timedelta(hours=2), "192.0.2.2"))
    await flush(redis_buffer)
    await flush(memory)
    # then the time and its IP are still the newest
    row = await ManagementToken.get(id=pk)
    assert (row.last_used_at, row.last_used_ip) == (T0 + timedelta(hours=5), "192.0.2.5")


async def test_two_processes_writing_one_buffer_keep_the_newest_use(api: Api, redis_url: str) -> None:
    # given two API processes (two clients, two buffers) recording concurrently into one Redis
    token_ids = await _tokens(api, 10)
    first, second = (aioredis.Redis.from_url(redis_url, decode_responses=True) for _ in range(2))
    try:
        buffers = [RedisUsageBuffer(first, timeout=5.0), RedisUsageBuffer(second, timeout=5.0)]
        uses_a, uses_b = _uses(token_ids, 40, seed=3), _uses(token_ids, 40, seed=4)
        # when both record at the same time and a flush follows
        await asyncio.gather(*(buffers[0].record(u) for u in uses_a), *(buffers[1].record(u) for u in uses_b))
        await flush(buffers[0])
        # then each token has the newest of all uses from both, with its IP
        await _assert_db_matches(_newest(uses_a + uses_b))
    finally:
        await first.aclose()
        await second.aclose()


async def test_uses_during_a_flush_wait_for_the_next(api: Api, redis_buffer: RedisUsageBuffer) -> None:
    # given a flush that has taken the buffer
    [pk] = await _tokens(api, 1)
    await redis_buffer.record(Use(MT, pk, T0, "192.0.2.1"))

    async def use_while_flushing(step: str) -> None:
        if step == "taken":
            await redis_buffer.record(Use(MT, pk, T0 + timedelta(minutes=1), "192.0.2.2"))

    # when a use arrives between the take and the write
    await flush(redis_buffer, hook=use_while_flushing)
    # then the flush wrote what it took, and the new use waits in the buffer for the next one
    assert (await ManagementToken.get(id=pk)).last_used_at == T0
    await flush(redis_buffer)
    row = await ManagementToken.get(id=pk)
    assert (row.last_used_at, row.last_used_ip) == (T0 + timedelta(minutes=1), "192.0.2.2")


class Crash(Exception):
    pass


def crash_at(where: str):
    async def hook(step: str) -> None:
        if step == where:
            raise Crash(step)

    return hook


async def test_flush_interrupted_after_the_database_write_loses_nothing(
    api: Api, redis_buffer: RedisUsageBuffer
) -> None:
    # given uses in Redis and a flush that dies after writing, before deleting what it took
    token_ids = await _tokens(api, 3)
    uses = _uses(token_ids, 5, seed=5)
    for use in uses:
        await redis_buffer.record(use)
    with pytest.raises(Crash):
        await flush(redis_buffer, hook=crash_at("written"))
    assert await redis_buffer.redis.scard(keys.ROUNDS) == 1
    # when newer uses arrive and the next flush runs
    later = [Use(MT, token_ids[0], T0 + timedelta(days=2), "192.0.2.99")]
    await redis_buffer.record(later[0])
    result = await flush(redis_buffer)
    # then it replays the leftover harmlessly, then writes the new use, and leaves nothing behind
    assert result.uses == 3 + 1
    await _assert_db_matches(_newest(uses + later))
    assert await redis_buffer.redis.exists(*keys.ALL) == 0


async def test_flush_interrupted_before_the_database_write_loses_nothing(
    api: Api, redis_buffer: RedisUsageBuffer
) -> None:
    # given a flush that dies right after taking the buffer
    token_ids = await _tokens(api, 3)
    uses = _uses(token_ids, 5, seed=6)
    for use in uses:
        await redis_buffer.record(use)
    with pytest.raises(Crash):
        await flush(redis_buffer, hook=crash_at("taken"))
    assert all(row.last_used_at is None for row in await ManagementToken.filter(id__in=token_ids))
    # when the next flush runs
    await flush(redis_buffer)
    # then every use is written
    await _assert_db_matches(_newest(uses))
    assert await redis_buffer.redis.exists(*keys.ALL) == 0


async def test_in_process_flush_interrupted_puts_the_batch_back(api: Api) -> None:
    # given the in-process buffer and a flush that dies before writing
    token_ids = await _tokens(api, 2)
    uses = _uses(token_ids, 5, seed=7)
    buffer = MemoryUsageBuffer()
    for use in uses:
        await buffer.record(use)
    with pytest.raises(Crash):
        await flush(buffer, hook=crash_at("taken"))
    # when the next flush runs
    await flush(buffer)
    # then nothing was lost
    await _assert_db_matches(_newest(uses))
    assert len(buffer) == 0


async def test_in_process_flush_failing_mid_way_puts_back_every_round_not_written(api: Api) -> None:
    # given 30 tokens' uses in the in-process buffer, flushed in rounds of 10, the second of which fails
    token_ids = await _tokens(api, 30)
    uses = _uses(token_ids, 1, seed=11)
    buffer = MemoryUsageBuffer()
    for use in uses:
        await buffer.record(use)
    rounds = 0

    async def second_round_fails(step: str) -> None:
        nonlocal rounds
        if step == "taken":
            rounds += 1
            if rounds == 2:
                raise Crash(step)

    with pytest.raises(Crash):
        await flush(buffer, batch_size=10, hook=second_round_fails)
    # then the round being written and the one already read ahead are back in the buffer
    assert len(buffer) == 20
    # and the next flush writes them
    await flush(buffer)
    await _assert_db_matches(_newest(uses))


async def test_a_slow_flush_never_deletes_what_a_later_flush_took(api: Api, redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    slow = RedisUsageBuffer(client, timeout=5.0, lease_seconds=0.2)
    others = RedisUsageBuffer(client, timeout=5.0)
    try:
        # given flush A took the buffer under a lease it then failed to renew (a frozen worker),
        [pk] = await _tokens(api, 1)
        await slow.record(Use(MT, pk, T0, "192.0.2.1"))
        lease_a = await slow.lease.try_acquire()
        assert lease_a is not None
        batch_a = await anext(slow.rounds(lease_a, 5000))
        # and flush B took A's batch over once that lease had expired, and completed it
        await asyncio.sleep(0.3)
        assert (await flush(others)).uses == 1
        # when a new use is taken by flush C, and then A finally completes
        await others.record(Use(MT, pk, T0 + timedelta(hours=1), "192.0.2.2"))
        lease_c = await others.lease.try_acquire()
        assert lease_c is not None
        batch_c = await anext(others.rounds(lease_c, 5000))
        assert not batch_c.leftover
        with pytest.raises(LeaseLost):
            await slow.complete(batch_a, lease_a)
        # then C's keys are still there for C (or, here, the flush after C's lease is gone) to write
        assert await client.scard(keys.ROUNDS) == 1
        await others.lease.release(lease_c)
        await flush(others)
        assert (await ManagementToken.get(id=pk)).last_used_at == T0 + timedelta(hours=1)
    finally:
        await client.aclose()


async def test_concurrent_flushes_write_everything_once(api: Api, redis_buffer: RedisUsageBuffer) -> None:
    # given many uses and three flushes racing each other while more uses arrive
    token_ids = await _tokens(api, 8)
    uses = _uses(token_ids, 30, seed=8)
    half = len(uses) // 2
    for use in uses[:half]:
        await redis_buffer.record(use)
    # when
    await asyncio.gather(
        flush(redis_buffer),
        flush(redis_buffer),
        *(redis_buffer.record(u) for u in uses[half:]),
        flush(redis_buffer),
    )
    await flush(redis_buffer)
    # then
    await _assert_db_matches(_newest(uses))
    assert await redis_buffer.redis.exists(*keys.ALL) == 0


async def test_last_used_ip_is_shown_in_token_details(api: Api, redis_buffer: RedisUsageBuffer) -> None:
    # given a token used from an address
    owner = await api.sign_up()
    token_id, _ = await api.create_token(owner, ALL_PERMISSIONS)
    pk = pk_of(token_id, "ManagementToken")
    assert pk is not None
    await redis_buffer.record(Use(MT, pk, T0, "2001:db8::7"))
    await flush(redis_buffer)
    # when the owner views its details
    data = await api.ok(TOKEN_DETAILS, {"id": token_id}, owner.session)
    # then
    assert data["node"]["lastUsedAt"] == T0.isoformat()
    assert data["node"]["lastUsedIp"] == "2001:db8::7"
    assert (await token_row(token_id)).last_used_ip == "2001:db8::7"


TOKEN_DETAILS = """  # noqa: S105
query($id: ID!) { node(id: $id) { ... on ManagementToken { id name lastUsedAt lastUsedIp staleSince } } }"""


async def test_concurrent_requests_share_round_trips(api: Api, redis_buffer: RedisUsageBuffer) -> None:
    # given 300 requests recording at once (each waits for the round trip that carries its use)
    token_ids = await _tokens(api, 3)
    uses = _uses(token_ids, 100, seed=9)
    round_trips = 0
    send = redis_buffer._record

    async def observed(**kwargs: object) -> object:
        nonlocal round_trips
        round_trips += 1
        return await send(**kwargs)

    redis_buffer._record = observed  # type: ignore[method-assign]
    # when
    await asyncio.gather(*(redis_buffer.record(use) for use in uses))
    # then they rode in a few shared round trips, and nothing fell back or got lost
    assert len(redis_buffer.fallback) == 0
    assert 1 <= round_trips < len(uses) / 10
    await flush(redis_buffer)
    await _assert_db_matches(_newest(uses))


async def test_a_batch_taken_by_the_previous_version_is_written_after_an_upgrade(
    api: Api, redis_buffer: RedisUsageBuffer
) -> None:
    # given the processing keys a flush of the previous version took (all of pending, renamed) and
    # never completed, beside new uses
    token_ids = await _tokens(api, 3)
    taken, later = _uses(token_ids, 1, seed=10), Use(MT, token_ids[0], T0 + timedelta(days=3), "192.0.2.77")
    redis = redis_buffer.redis
    await redis.zadd(keys.LEGACY_PROCESSING, {use.member: use.micros for use in taken})
    await redis.hset(keys.LEGACY_PROCESSING_IP, mapping={use.member: use.ip for use in taken if use.ip})
    await redis_buffer.record(later)
    # when the new version flushes
    result = await flush(redis_buffer)
    # then both are written, the newest use winning, and nothing is left behind
    assert result.uses == 4
    await _assert_db_matches(_newest([*taken, later]))
    assert await redis.exists(*keys.ALL) == 0
