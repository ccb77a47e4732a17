"""KEYWARD_INTROSPECTION=false: introspection refused cleanly, GraphiQL not served, queries still work.

Its own module: it needs an app built with other settings, and two apps in one module would
share (and close) Tortoise's global connections.
"""

import asyncio

from tests.support.running_app import running_api
from tests.test_hostile_queries import (
    INTROSPECTION,
    PATIENCE_SECONDS,
    TYPE_INTROSPECTION,
    _clean_errors,
    _send,
)
from tests.test_response_headers import MISSPELT_ENUM, MISSPELT_FIELD


async def test_introspection_can_be_turned_off(database_url: str) -> None:
    async with running_api(database_url, introspection="false") as api:
        # when
        schema = await _send(api, json={"query": INTROSPECTION})
        type_ = await _send(api, json={"query": TYPE_INTROSPECTION})
        typename = await _send(api, json={"query": "{ __typename }"})
        ide = await asyncio.wait_for(api.http.get("/graphql", headers={"accept": "text/html"}), PATIENCE_SECONDS)
        assets = await api.http.get("/graphiql/vendor/graphiql.min.js")
        # then
        for response in (schema, type_):
            assert "introspection" in _clean_errors(response)[0]["message"].lower()
            assert response.json().get("data") is None
        assert typename.json() == {"data": {"__typename": "Query"}}
        assert "graphiql" not in ide.text.lower()
        assert assets.status_code == 404


async def test_with_introspection_off_no_error_suggests_a_name(database_url: str) -> None:
    async with running_api(database_url, introspection="false") as api:
        owner = await api.sign_up()
        # when: a misspelt field (validation), enum value (variable coercion) and argument
        field = await api.post(MISSPELT_FIELD, token=owner.session)
        enum = await api.post(MISSPELT_ENUM, {"s": "ACTIV"}, owner.session)
        argument = await api.post("{ projects(frist: 1) { totalCount } }", token=owner.session)
        # then: the error, without the names it would have suggested
        for response, suggestion in ((field, "'projects'"), (enum, "ACTIVE"), (argument, "'first'")):
            message = _clean_errors(response)[0]["message"]
            assert "Did you mean" not in response.text, message
            assert suggestion not in message, message
