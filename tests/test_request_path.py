"""What keeps a management token's request cheap, as behaviour a refactor could break.

Each test fails if its saving is lost: documents validated again on every request, a count query
nobody asked for (or even built), a query that reaches the database for a token with a bad
checksum, a pool that sends asyncpg's reset round trip after every query, or garbage collections
that walk the whole startup heap again.
"""

import gc

import pytest
from tortoise.connection import get_connection

from app.db import PooledConnection
from app.graphql.document_checks import checked_documents
from app.main import YOUNG_GENERATION_THRESHOLD, create_app
from app.models import Project
from app.settings import Settings
from tests.support.api import Api
from tests.support.sql_statements import statements

PAGE = "query($after: String) { projects(first: 2, after: $after) { edges { cursor node { id name } } } }"
PAGE_WITH_COUNT = "{ projects(first: 2) { totalCount edges { node { id } } } }"


async def test_a_repeated_document_is_validated_once(api: Api) -> None:
    owner = await api.sign_up()
    token = (await api.create_token(owner, ["VIEW_PROJECTS"]))[1]
    cache = checked_documents  # Keyward's own validation cache (app/graphql/document_checks.py)
    await api.ok(PAGE, {}, token)
    before = (cache.hits, cache.misses)
    for _ in range(3):
        await api.ok(PAGE, {}, token)
    after = (cache.hits, cache.misses)
    # the validation rules are the same classes on every request, so the cache answers
    assert (after[0] - before[0], after[1] - before[1]) == (3, 0)


async def test_a_page_is_one_query_and_the_count_only_when_selected(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await api.sign_up()
    other = await api.sign_up()
    token = (await api.create_token(owner, ["VIEW_PROJECTS", "MANAGE_PROJECTS"]))[1]
    names = [f"p{i}" for i in range(5)]
    for name in names:
        await api.create_project(token, name)
    await api.create_project(other.session, "not yours")

    built: list[dict[str, object]] = []
    build_query = Project.filter
    monkeypatch.setattr(Project, "filter", lambda *args, **kwargs: built.append(kwargs) or build_query(*args, **kwargs))
    with statements(monkeypatch) as seen:
        first = (await api.ok(PAGE, {}, token))["projects"]
    # one lookup of the token, one page query; nothing counts rows, or even builds the count
    assert len(seen) == 2, seen
    assert not any("COUNT" in sql.upper() for sql in seen), seen
    assert built == []

    # the hand-written page is keyset-paged, oldest first, and scoped to the token's workspace
    pages, after = [first], first["edges"][-1]["cursor"]
    while after:
        page = (await api.ok(PAGE, {"after": after}, token))["projects"]
        pages.append(page)
        after = page["edges"][-1]["cursor"] if page["edges"] else None
    assert [e["node"]["name"] for p in pages for e in p["edges"]] == names

    with statements(monkeypatch) as seen:
        counted = (await api.ok(PAGE_WITH_COUNT, {}, token))["projects"]
    assert counted["totalCount"] == 5
    assert sum("COUNT" in sql.upper() for sql in seen) == 1, seen


async def test_refused_shapes_never_reach_the_database(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await api.sign_up()
    secret = (await api.create_token(owner, ["VIEW_PROJECTS"]))[1]
    bad_checksum = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    with statements(monkeypatch) as seen:
        for value in ["garbage", "kwm_short", bad_checksum]:
            response = await api.post(PAGE, {}, value)
            assert response.status_code == 401
    assert seen == []


async def test_postgres_connections_skip_the_reset_round_trip(api: Api, database_url: str) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("asyncpg pools only on PostgreSQL")
    await api.sign_up()  # the pool has served queries
    pool = get_connection("default")._pool  # type: ignore[attr-defined]
    async with pool.acquire() as proxy:
        connection = proxy._con
        assert isinstance(connection, PooledConnection)
        assert connection.get_reset_query() == ""
        # a transaction left open is still rolled back when the connection goes back
        await proxy.execute("BEGIN")
        assert connection.is_in_transaction()
    assert not connection.is_in_transaction()


async def test_startup_freezes_the_heap_it_built_and_raises_the_young_threshold(settings: Settings) -> None:
    """Full collections must not walk the schema and the ORM every time (docs/decisions/0005)."""
    threshold = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, *threshold[1:])
    assert gc.get_freeze_count() == 0
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *threshold[1:])
