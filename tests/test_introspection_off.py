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
