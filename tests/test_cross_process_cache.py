"""The credential cache keeps the revocation promise across processes, whatever Redis does.

Two `keyward serve` processes on one database and a Redis of the test's own. Process B accepts a
credential (often enough that it answers it from its cache), then every revoking mutation runs in
process A (or, for the stale sweep, in a third process: `keyward stale-sweep`), and B must refuse
the credential on its very next request, with Redis
- up the whole time,
- down from before the mutation until B's next request,
- restarted (its data gone) before the mutation, or after it,
- full (`maxmemory` reached, `noeviction`: writes answer OOM) from before the mutation until just
  before B's next request,
- paused (`CLIENT PAUSE … WRITE`) from before the mutation, longer than the mutation waits for its
  bump, until just before B's next request.
"""

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
import pytest_asyncio
import redis as redis_client

from app.graphql.ids import pk_of
from tests.support.api import Account, Api
from tests.support.serve_processes import CLIENT_LIMITS, Server, run_keyward, serve_many
from tests.support.throwaway_services import ThrowawayRedis, throwaway_redis

pytestmark = pytest.mark.asyncio(loop_scope="module")

VIEWER = "{ viewer { kind } }"
REVOKE = "mutation($id: ID!) { revokeManagementToken(input: {id: $id}) { userErrors { code } } }"
DELETE_KEY = "mutation($id: ID!) { deleteApiKey(input: {id: $id}) { deletedId userErrors { code } } }"
DELETE_PROJECT = "mutation($id: ID!) { deleteProject(input: {id: $id}) { deletedId userErrors { code } } }"
AUTO_REVOKE = """mutation { updateWorkspaceSettings(input: {staleAfterDays: 30, autoRevokeStaleAfterDays: 30}) {
  userErrors { code } } }"""
WARM_UP_REQUESTS = 3  # the first learns the epoch, the second caches under it, the third is answered from the cache


async def execute(database_url: str, sql: str, *args: object) -> None:
    """A statement straight on the database, behind Keyward's back (PostgreSQL or the run's SQLite file)."""
    if database_url.startswith("postgres"):
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(sql, *args)
        finally:
            await conn.close()
        return
    path = database_url.removeprefix("sqlite://")
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn, conn:
        conn.execute(sql.replace("$", "?"), [a.isoformat(" ") if isinstance(a, datetime) else a for a in args])


@dataclass
class World:
    a: Api
    b: Api
    owner: Account
    database_url: str
    redis: ThrowawayRedis

    async def token_accepted_by_b(self, token: str) -> bool:
        response = await self.b.post(VIEWER, token=token)
        assert response.status_code in (200, 401), response.text
        return response.status_code == 200

    async def key_valid_in_b(self, key: str) -> bool:
        response = await self.b.http.post("/v1/keys/verify", json={"key": key})
        assert response.status_code == 200, response.text
        return bool(response.json()["valid"])


@pytest.fixture(scope="module")
def redis() -> Iterator[ThrowawayRedis]:
    with throwaway_redis() as server:
        yield server


@pytest.fixture(scope="module")
def servers(database_url: str, redis: ThrowawayRedis) -> Iterator[list[Server]]:
    # After a failed round trip a process leaves Redis alone for a while: short here, so the
    # tests need not wait for it once Redis is back. A round trip slower than the request path
    # waits counts as Redis being away (and nothing is answered from the cache then): generous
    # here, so that on a busy machine B still answers from its cache when the tests expect it to.
    settings = {"usage_redis_retry_seconds": "0.2", "usage_redis_timeout_seconds": "5"}
    with serve_many(2, database_url, redis.url, **settings) as started:
        yield started


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(servers: list[Server], database_url: str, redis: ThrowawayRedis) -> AsyncIterator[World]:
    first, second = servers
    async with (
        httpx.AsyncClient(base_url=first.base_url, limits=CLIENT_LIMITS, timeout=30) as a,
        httpx.AsyncClient(base_url=second.base_url, limits=CLIENT_LIMITS, timeout=30) as b,
    ):
        api_a = Api(a)
        yield World(api_a, Api(b), await api_a.sign_up(), database_url, redis)


def _redis_up(redis: ThrowawayRedis) -> None:
    if redis.process is None:
        redis.start()
    else:
        _room_again(redis)


@pytest.fixture
def redis_back_up(redis: ThrowawayRedis) -> Iterator[None]:
    _redis_up(redis)
    yield
    _redis_up(redis)


# ---- what happens to Redis around the mutation ----------------------------------------------


@dataclass(frozen=True)
class RedisCourse:
    name: str
    before: Callable[[ThrowawayRedis], None]
    after: Callable[[ThrowawayRedis], None]


def _nothing(redis: ThrowawayRedis) -> None:
    pass


def _restart(redis: ThrowawayRedis) -> None:
    redis.stop()
    redis.start()


def _config(redis: ThrowawayRedis, *settings: str) -> None:
    client = redis_client.Redis.from_url(redis.url)
    try:
        client.config_set(*settings)
    finally:
        client.close()


def _full(redis: ThrowawayRedis) -> None:
    """Redis at its memory limit with nothing to evict: every write that may grow it answers OOM."""
    _config(redis, "maxmemory-policy", "noeviction")
    _config(redis, "maxmemory", "1")


def _room_again(redis: ThrowawayRedis) -> None:
    _config(redis, "maxmemory", "0")


# Longer than the revoking process waits for its bump (two tries of a second each).
PAUSE_SECONDS = 3.0
_pause_ends: dict[int, float] = {}  # by port


def _pause(redis: ThrowawayRedis) -> None:
    """Redis holds every command that may write (the record script, the bump) until the pause ends."""
    client = redis_client.Redis.from_url(redis.url)
    try:
        client.execute_command("CLIENT", "PAUSE", str(round(PAUSE_SECONDS * 1000)), "WRITE")
        _pause_ends[redis.port] = time.monotonic() + PAUSE_SECONDS
    finally:
        client.close()


def _pause_over(redis: ThrowawayRedis) -> None:
    time.sleep(max(0.0, _pause_ends.pop(redis.port) + 0.05 - time.monotonic()))


COURSES = [
    RedisCourse("up", _nothing, _nothing),
    RedisCourse("full-until-after", _full, _room_again),
    RedisCourse("paused-until-after", _pause, _pause_over),
    RedisCourse("down", lambda r: r.stop(), _nothing),
    RedisCourse("restarted-before", _restart, _nothing),
    RedisCourse("restarted-after", _nothing, _restart),
]


# ---- the revoking mutations -------------------------------------------------------------------


@dataclass
class Credential:
    secret: str
    is_key: bool
    revoke: Callable[["World", "RedisCourse"], Awaitable[None]]

    async def accepted_by_b(self, world: World) -> bool:
        return await (world.key_valid_in_b(self.secret) if self.is_key else world.token_accepted_by_b(self.secret))


async def _revoked_token(world: World) -> Credential:
    token_id, token = await world.a.create_token(world.owner, ["VIEW_PROJECTS"])

    async def revoke(world: World, course: RedisCourse) -> None:
        await world.a.ok(REVOKE, {"id": token_id}, world.owner.session)

    return Credential(token, False, revoke)


async def _deleted_key(world: World) -> Credential:
    project = await world.a.create_project(world.owner.session)
    key_id, key = await world.a.create_api_key(world.owner.session, project)

    async def revoke(world: World, course: RedisCourse) -> None:
        await world.a.ok(DELETE_KEY, {"id": key_id}, world.owner.session)

    return Credential(key, True, revoke)


async def _key_of_deleted_project(world: World) -> Credential:
    project = await world.a.create_project(world.owner.session)
    _, key = await world.a.create_api_key(world.owner.session, project)

    async def revoke(world: World, course: RedisCourse) -> None:
        await world.a.ok(DELETE_PROJECT, {"id": project}, world.owner.session)

    return Credential(key, True, revoke)


async def _leak(world: World, secret: str) -> None:
    report = [{"token": secret, "type": "keyward_token", "url": "https://example.com/leak", "source": "content"}]
    response = await world.a.http.post("/v1/leaks", json=report)
    assert response.status_code == 200, response.text
    assert response.json()[0]["label"] == "true_positive"


async def _leaked_token(world: World) -> Credential:
    _, token = await world.a.create_token(world.owner, ["VIEW_PROJECTS"])
    return Credential(token, False, lambda world, course: _leak(world, token))


async def _leaked_key(world: World) -> Credential:
    project = await world.a.create_project(world.owner.session)
    _, key = await world.a.create_api_key(world.owner.session, project)
    return Credential(key, True, lambda world, course: _leak(world, key))


async def _swept_token(world: World) -> Credential:
    """A token the stale sweep revokes: its workspace revokes after 30 idle days, and it was last used 40 days ago."""
    owner = await world.a.sign_up()
    await world.a.ok(AUTO_REVOKE, token=owner.session)
    token_id, token = await world.a.create_token(owner, ["VIEW_PROJECTS"])

    async def revoke(world: World, course: RedisCourse) -> None:
        redis_url = None if world.redis.process is None else world.redis.url
        if redis_url:  # the uses B recorded reach the database first, then they are made old
            code, output = await run_keyward(world.database_url, redis_url, "worker", "--burst")
            assert code == 0, output
        long_ago = datetime.now(UTC) - timedelta(days=40)
        await execute(
            world.database_url,
            "UPDATE management_token SET created_at = $1, last_used_at = $1 WHERE id = $2",
            long_ago,
            pk_of(token_id, "ManagementToken"),
        )
        # With Redis down the operator runs the sweep without it (it cannot flush Redis then).
        code, output = await run_keyward(
            world.database_url, redis_url, "stale-sweep", usage_flush_seconds="0.1", stale_sweep_settle_seconds="0.1"
        )
        assert code == 0, output
        assert "1 revoked" in output, output

    return Credential(token, False, revoke)


MUTATIONS: dict[str, Callable[[World], Awaitable[Credential]]] = {
    "revokeManagementToken": _revoked_token,
    "deleteApiKey": _deleted_key,
    "deleteProject": _key_of_deleted_project,
    "leaked management token": _leaked_token,
    "leaked API key": _leaked_key,
    "stale sweep auto-revocation": _swept_token,
}


@pytest.mark.usefixtures("redis_back_up")
@pytest.mark.parametrize("course", COURSES, ids=[c.name for c in COURSES])
@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_the_other_process_refuses_on_its_next_request(world: World, mutation: str, course: RedisCourse) -> None:
    # given: B accepts the credential, often enough to answer it from its cache
    credential = await MUTATIONS[mutation](world)
    for _ in range(WARM_UP_REQUESTS):
        assert await credential.accepted_by_b(world)
    # when
    course.before(world.redis)
    await credential.revoke(world, course)
    course.after(world.redis)
    # then: refused on B's very next request, and on the ones after it, Redis back or not
    assert not await credential.accepted_by_b(world)
    _redis_up(world.redis)
    await asyncio.sleep(0.3)  # past B's retry pause: it asks Redis again
    for _ in range(WARM_UP_REQUESTS):
        assert not await credential.accepted_by_b(world)


@pytest.mark.usefixtures("redis_back_up")
async def test_the_other_process_answers_from_its_cache_until_the_epoch_moves(world: World) -> None:
    """What the tests above stand on: B really answers from its cache (a row removed behind Keyward's
    back, with no mutation and so no bump, is still accepted), and any bump sends it to the database."""
    # given
    project = await world.a.create_project(world.owner.session)
    key_id, key = await world.a.create_api_key(world.owner.session, project)
    other_id, _ = await world.a.create_api_key(world.owner.session, project)
    for _ in range(WARM_UP_REQUESTS):
        assert await world.key_valid_in_b(key)
    # when the row goes without a mutation
    await execute(world.database_url, "DELETE FROM api_key WHERE id = $1", pk_of(key_id, "ApiKey"))
    # then B still answers from its cache
    assert await world.key_valid_in_b(key)
    # when any revoking mutation returns (another key's deletion bumps the epoch)
    await world.a.ok(DELETE_KEY, {"id": other_id}, world.owner.session)
    # then B asks the database again
    assert not await world.key_valid_in_b(key)
