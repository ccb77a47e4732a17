"""The per-process cache of verified credentials (app/credentials/), in one process.

What it saves (a database lookup per request, with Redis), what it never does (answer without
Redis, answer past an expiry, let unknown tokens push live entries out), and that every revoking
mutation moves the revocation epoch before it returns. Across processes: test_cross_process_cache.py.
"""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
import redis.asyncio
from starlette.applications import Starlette

from app.credentials.cache import CredentialCache
from app.main import create_app
from app.security import tokens
from app.security.tokens import TokenKind
from app.settings import Settings
from app.usage import keys
from tests.support.api import Account, Api
from tests.support.running_app import CLIENT_IP, empty_tables
from tests.support.sql_statements import statements

VIEWER = "{ viewer { kind } }"
REVOKE = "mutation($id: ID!) { revokeManagementToken(input: {id: $id}) { userErrors { code } } }"
ROTATE = "mutation($id: ID!) { rotateManagementToken(input: {id: $id}) { userErrors { code } } }"
DELETE_KEY = "mutation($id: ID!) { deleteApiKey(input: {id: $id}) { deletedId userErrors { code } } }"
DELETE_PROJECT = "mutation($id: ID!) { deleteProject(input: {id: $id}) { deletedId userErrors { code } } }"
WARM_UP = 3  # learn the epoch, cache under it, answer from the cache


async def _verify(api: Api, key: str) -> dict[str, object]:
    response = await api.http.post("/v1/keys/verify", json={"key": key})
    assert response.status_code == 200, response.text
    return response.json()


async def _key(api: Api, owner: Account) -> tuple[str, str]:
    project = await api.create_project(owner.session)
    return await api.create_api_key(owner.session, project)


# A Redis round trip that takes longer than the request path waits (0.1 s by default) counts as
# Redis being away, and then nothing is answered from the cache: on a busy machine that would
# make the tests below about the cache flaky, so they wait longer.
PATIENT = {"usage_redis_timeout_seconds": 5.0}


async def _serve(settings: Settings) -> AsyncIterator[tuple[Api, Starlette]]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await empty_tables()
        transport = httpx.ASGITransport(app=application, client=(CLIENT_IP, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
            yield Api(http), application


@pytest_asyncio.fixture
async def cached_api(redis_settings: Settings) -> AsyncIterator[Api]:
    async for api, _ in _serve(redis_settings.model_copy(update=PATIENT)):
        yield api


@pytest_asyncio.fixture
async def small_cache_api(redis_settings: Settings) -> AsyncIterator[tuple[Api, Starlette]]:
    small = {"credential_cache_size": 4, "unknown_credential_cache_size": 50}
    async for served in _serve(redis_settings.model_copy(update=PATIENT | small)):
        yield served


async def test_with_redis_a_cached_key_or_token_costs_no_database_statement(
    cached_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    owner = await cached_api.sign_up()
    _, key = await _key(cached_api, owner)
    _, token = await cached_api.create_token(owner, ["VIEW_PROJECTS"])
    for _ in range(WARM_UP):
        assert (await _verify(cached_api, key))["valid"] is True
        assert (await cached_api.post(VIEWER, token=token)).status_code == 200
    # when
    with statements(monkeypatch) as seen:
        answer = await _verify(cached_api, key)
        viewer = await cached_api.post(VIEWER, token=token)
    # then
    assert answer["valid"] is True and viewer.status_code == 200
    assert seen == []


async def test_without_redis_every_request_asks_the_database(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    owner = await api.sign_up()
    _, key = await _key(api, owner)
    for _ in range(WARM_UP):
        assert (await _verify(api, key))["valid"] is True
    # when
    with statements(monkeypatch) as seen:
        for _ in range(3):
            assert (await _verify(api, key))["valid"] is True
    # then: nothing verified is cached without Redis (app/credentials/cache.py says why)
    assert len([sql for sql in seen if "FROM api_key" in sql]) == 3


async def test_a_flood_of_unknown_tokens_does_not_push_live_entries_out(
    small_cache_api: tuple[Api, Starlette], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, _ = small_cache_api
    # given: live keys filling the cache of verified credentials (4 entries here)
    owner = await api.sign_up()
    keys_ = [(await _key(api, owner))[1] for _ in range(4)]
    for _ in range(WARM_UP):
        for key in keys_:
            assert (await _verify(api, key))["valid"] is True
    # when: many more random checksum-valid keys than both caches hold
    flood = [tokens.generate(TokenKind.API_KEY).value for _ in range(300)]
    for value in flood:
        assert (await _verify(api, value))["code"] == "UNKNOWN_KEY"
    # then: the live keys are still answered from the cache
    with statements(monkeypatch) as seen:
        for key in keys_:
            assert (await _verify(api, key))["valid"] is True
    assert seen == []


async def test_an_unknown_digest_is_remembered_briefly(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = tokens.generate(TokenKind.API_KEY).value
    with statements(monkeypatch) as seen:
        for _ in range(3):
            assert (await _verify(api, unknown))["code"] == "UNKNOWN_KEY"
    assert len(seen) == 1


async def test_a_cached_entry_past_its_expiry_is_never_answered_from_the_cache(
    small_cache_api: tuple[Api, Starlette], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, application = small_cache_api
    cache: CredentialCache = application.state.credentials.cache
    # given a cached key
    owner = await api.sign_up()
    _, key = await _key(api, owner)
    for _ in range(WARM_UP):
        assert (await _verify(api, key))["valid"] is True
    digest = tokens.parse(key).digest
    entry = cache.get(digest)
    assert entry is not None
    # when its cached verdict carries an expiry that has passed (as the database will hand it once keys expire)
    expired = replace(entry.verified, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    cache.put(digest, expired, entry.epoch, cache.generation)
    # then the cache does not answer: the database is asked
    with statements(monkeypatch) as seen:
        await _verify(api, key)
    assert [sql for sql in seen if "FROM api_key" in sql]


async def _epoch(redis_url: str) -> str | None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        return await client.get(keys.REVOCATION_EPOCH)
    finally:
        await client.aclose()


async def test_every_revoking_mutation_moves_the_epoch_before_it_returns(redis_api: Api, redis_url: str) -> None:
    owner = await redis_api.sign_up()
    token_id, _ = await redis_api.create_token(owner, ["VIEW_PROJECTS"])
    rotated_id, _ = await redis_api.create_token(owner, ["VIEW_PROJECTS"])
    project = await redis_api.create_project(owner.session)
    key_id, _ = await redis_api.create_api_key(owner.session, project)
    other_project = await redis_api.create_project(owner.session, "Other")
    for mutation, variables in [
        (REVOKE, {"id": token_id}),
        (ROTATE, {"id": rotated_id}),
        (DELETE_KEY, {"id": key_id}),
        (DELETE_PROJECT, {"id": other_project}),
    ]:
        before = await _epoch(redis_url)
        await redis_api.ok(mutation, variables, owner.session)
        after = await _epoch(redis_url)
        assert after is not None and after != before, mutation
