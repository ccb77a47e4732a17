"""Every JSON answer is `Cache-Control: no-store` and every answer `X-Content-Type-Options: nosniff`;
with introspection on (the default), validation still suggests names (off: tests/test_introspection_off.py).
"""

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio

from app.settings import Settings
from tests.support.api import PASSWORD, Api
from tests.support.running_app import running_api

pytestmark = pytest.mark.asyncio(loop_scope="module")

SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) { sessionToken userErrors { code } } }"""
MISSPELT_FIELD = "{ projets { totalCount } }"
MISSPELT_ENUM = "query($s: ManagementTokenStatus) { managementTokens(status: $s) { totalCount } }"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url) as running:
        yield running


def _no_store_nosniff(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff", (response.request.url, response.headers)
    assert response.headers["cache-control"] == "no-store", (response.request.url, response.headers)


async def test_every_json_answer_is_no_store_and_nosniff(api: Api) -> None:
    http = api.http
    sign_up = {"input": {"email": "headers@example.com", "password": PASSWORD, "workspaceName": "Acme"}}
    # when: answers with a secret, reads, refusals of every kind and every JSON route
    answers = [
        await http.post("/graphql", json={"query": SIGN_UP, "variables": sign_up}),
        await http.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"accept": "application/graphql-response+json"},
        ),
        await http.get("/graphql?" + urlencode({"query": "{ viewer { kind } }"})),
        await http.get("/graphql?" + urlencode({"query": "mutation { logOut { ok } }"})),  # 405
        await http.post("/graphql", content=b"{", headers={"content-type": "application/json"}),  # 400
        await http.post(
            "/graphql",
            content=b'{"query": "' + b"x" * (Settings().max_body_bytes + 1) + b'"}',
            headers={"content-type": "application/json"},
        ),  # 413, written by a middleware
        await http.post(
            "/graphql", json={"query": "{ projects { totalCount } }"}, headers={"Authorization": "Bearer x"}
        ),
        await http.post("/v1/keys/verify", json={"key": "kwk_nothing"}),
        await http.post("/v1/keys/verify", content=b"not json"),
        await http.post("/v1/leaks", json=[]),
        await http.get("/healthz"),
        await http.get("/readyz"),
        await http.get("/openapi.json"),
    ]
    # then
    statuses = [answer.status_code for answer in answers]
    assert {200, 400, 401, 405, 413} <= set(statuses), statuses
    assert "sessionToken" in answers[0].text
    for answer in answers:
        _no_store_nosniff(answer)


async def test_pages_keep_their_own_caching_and_are_nosniff(api: Api) -> None:
    # when
    graphiql = await api.http.get("/graphql", headers={"accept": "text/html"})
    console = await api.http.get("/")
    # then
    for page in (graphiql, console):
        assert page.status_code == 200
        assert page.headers["x-content-type-options"] == "nosniff"
    assert graphiql.headers["cache-control"] == "no-store"


async def test_with_introspection_on_validation_suggests_names(api: Api) -> None:
    owner = await api.sign_up()
    # when
    field = (await api.post(MISSPELT_FIELD, token=owner.session)).json()
    enum = (await api.post(MISSPELT_ENUM, {"s": "ACTIV"}, owner.session)).json()
    # then
    assert "Did you mean 'projects'?" in field["errors"][0]["message"], field
    assert "Did you mean" in enum["errors"][0]["message"] and "ACTIVE" in enum["errors"][0]["message"], enum
