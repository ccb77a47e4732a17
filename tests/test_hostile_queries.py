"""Hostile requests get clean GraphQL errors: never a 500, never a hang, never internals."""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from app import models
from app.settings import Settings
from tests.support.api import Account, Api
from tests.support.running_app import running_api

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIMITS = Settings()
# Each request must be answered well inside this; the point is "never hangs", not speed.
PATIENCE_SECONDS = 30

DEEP_TOKENS = "{ managementTokens { edges { node { " + "replaces { " * 20 + "id" + " }" * 20 + " } } } }"
AT_DEPTH_LIMIT = "{ managementTokens { edges { node { " + "replaces { " * 8 + "id" + " }" * 8 + " } } } }"
MANY_ALIASES = "{ " + " ".join(f"a{i}: __typename" for i in range(LIMITS.max_aliases + 1)) + " }"
MANY_TOKENS = "{ " + " ".join(["__typename"] * (LIMITS.max_query_tokens + 1)) + " }"
PROJECTS_PAGE = "query($first: Int) { projects(first: $first) { totalCount edges { node { id } } } }"
INTROSPECTION = "{ __schema { queryType { name } } }"
TYPE_INTROSPECTION = '{ __type(name: "Project") { name } }'
PROJECTS = "{ projects { totalCount } }"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def setup(database_url: str) -> AsyncIterator[tuple[Api, Account]]:
    async with running_api(database_url) as api:
        yield api, await api.sign_up()


async def _send(api: Api, **request: Any) -> httpx.Response:
    return await asyncio.wait_for(api.http.post("/graphql", **request), PATIENCE_SECONDS)


def _clean_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """A GraphQL-shaped JSON answer with errors, no 5xx, and no stack trace or SQL in it."""
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert body.get("errors"), body
    for error in body["errors"]:
        assert isinstance(error["message"], str) and error["message"]
        for internal in ("Traceback", 'File "', "SELECT", "sqlite", "asyncpg"):
            assert internal not in response.text, response.text
    return body["errors"]


@pytest.mark.parametrize(
    ("document", "words"),
    [(DEEP_TOKENS, "depth"), (MANY_ALIASES, "aliases"), (MANY_TOKENS, "token")],
    ids=["depth", "aliases", "tokens"],
)
async def test_query_shape_limits_refuse_cleanly(setup: tuple[Api, Account], document: str, words: str) -> None:
    api, owner = setup
    # when
    response = await _send(api, json={"query": document}, headers={"Authorization": f"Bearer {owner.session}"})
    # then
    errors = _clean_errors(response)
    assert words in errors[0]["message"].lower(), errors
    assert response.json().get("data") is None


async def test_a_query_within_the_depth_limit_runs(setup: tuple[Api, Account]) -> None:
    api, owner = setup
    # when
    response = await _send(api, json={"query": AT_DEPTH_LIMIT}, headers={"Authorization": f"Bearer {owner.session}"})
    # then
    assert response.status_code == 200 and "errors" not in response.json(), response.text


@pytest.mark.parametrize("first", [101, 10_000, -1])
async def test_first_is_capped_at_100(setup: tuple[Api, Account], first: int) -> None:
    api, owner = setup
    # when
    response = await _send(
        api,
        json={"query": PROJECTS_PAGE, "variables": {"first": first}},
        headers={"Authorization": f"Bearer {owner.session}"},
    )
    # then
    errors = _clean_errors(response)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["path"] == ["projects"]
    assert "100" in errors[0]["message"]


async def test_first_100_is_allowed(setup: tuple[Api, Account]) -> None:
    api, owner = setup
    # when
    body = await api.ok(PROJECTS_PAGE, {"first": 100}, owner.session)
    # then
    assert body["projects"]["totalCount"] == 0


async def test_a_body_over_the_limit_is_refused_with_413(setup: tuple[Api, Account]) -> None:
    api, _ = setup
    oversized = b'{"query": "{ __typename }", "padding": "' + b"x" * LIMITS.max_body_bytes + b'"}'
    # when: with a Content-Length, and streamed without one
    declared = await _send(api, content=oversized, headers={"content-type": "application/json"})

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(oversized), 16384):
            yield oversized[start : start + 16384]

    streamed = await _send(api, content=chunks(), headers={"content-type": "application/json"})
    # then
    for response in (declared, streamed):
        assert response.status_code == 413
        assert _clean_errors(response)[0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("count", [1, 2, 50])
async def test_batched_operations_are_refused(setup: tuple[Api, Account], count: int) -> None:
    api, owner = setup
    # when
    response = await _send(
        api, json=[{"query": "{ __typename }"}] * count, headers={"Authorization": f"Bearer {owner.session}"}
    )
    # then
    assert response.status_code == 400
    assert "batched" in _clean_errors(response)[0]["message"].lower()


async def test_deeply_nested_json_is_refused_cleanly(setup: tuple[Api, Account]) -> None:
    api, _ = setup
    nested = b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    # when
    response = await _send(api, content=nested, headers={"content-type": "application/json"})
    # then
    assert response.status_code == 400
    _clean_errors(response)


async def test_introspection_is_on_by_default(setup: tuple[Api, Account]) -> None:
    api, _ = setup
    # when
    body = (await _send(api, json={"query": INTROSPECTION})).json()
    # then
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_an_unexpected_failure_is_masked_with_a_request_id_and_logged(
    setup: tuple[Api, Account], caplog: pytest.LogCaptureFixture
) -> None:
    api, owner = setup
    connection = models.Project._meta.db
    # given: the database loses the table under the running service (a real failure, nothing mocked)
    await connection.execute_script('ALTER TABLE "project" RENAME TO "project_gone"')
    try:
        with caplog.at_level(logging.ERROR, logger="keyward"):
            # when
            response = await _send(api, json={"query": PROJECTS}, headers={"Authorization": f"Bearer {owner.session}"})
    finally:
        await connection.execute_script('ALTER TABLE "project_gone" RENAME TO "project"')
    # then: the client gets a masked error with a request id, and nothing of the cause
    errors = _clean_errors(response)
    assert response.status_code == 200
    assert errors[0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    request_id = errors[0]["extensions"]["requestId"]
    assert request_id in errors[0]["message"]
    assert response.headers["x-request-id"] == request_id  # the request's own id, also on its log lines
    assert "project" not in errors[0]["message"].lower()
    # and the log has the detail under the same id
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "project" in str(logged[0].exc_info[1]).lower()
    # and the service works again once the table is back
    assert (await api.ok(PROJECTS, token=owner.session))["projects"]["totalCount"] == 0
