"""`POST /v1/keys/verify` goes from the envelope straight to its endpoint (`app.http.direct_route`),
and every other request to it goes through the router as before."""

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Router

from app.http.direct_route import DirectRoute
from tests.support.running_app import CLIENT_IP

MALFORMED = {"key": "kwk_not-a-key"}


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the app's router was asked to route, in order."""
    paths: list[str] = []
    route = Router.__call__

    async def counting(self: Router, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            paths.append(scope["path"])
        await route(self, scope, receive, send)

    monkeypatch.setattr(Router, "__call__", counting)
    return paths


async def test_verify_is_answered_past_the_router_with_everything_the_envelope_adds(
    client: httpx.AsyncClient, routed: list[str]
) -> None:
    # when
    answer = await client.post("/v1/keys/verify", json=MALFORMED, headers={"x-request-id": "direct-route-1"})
    # then the endpoint answered, the router was not asked, and the envelope's headers are there
    assert answer.status_code == 200 and answer.json()["code"] == "MALFORMED"
    assert routed == []
    assert answer.headers["x-request-id"] == "direct-route-1"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"


async def test_other_methods_and_paths_still_go_through_the_router(
    client: httpx.AsyncClient, routed: list[str]
) -> None:
    # when
    get = await client.get("/v1/keys/verify")
    slash = await client.post("/v1/keys/verify/", json=MALFORMED, follow_redirects=False)
    other = await client.post("/v1/keys/verify-me", json=MALFORMED)
    # then the router answers them as it answers any route: 405, the slash redirect, 404
    assert get.status_code == 405 and get.headers["allow"] == "POST"
    assert slash.status_code == 307 and slash.headers["location"].endswith("/v1/keys/verify")
    assert other.status_code == 404
    assert routed == ["/v1/keys/verify", "/v1/keys/verify/", "/v1/keys/verify-me"]


async def test_a_body_over_the_bound_is_refused_by_the_envelope(client: httpx.AsyncClient, routed: list[str]) -> None:
    # when
    answer = await client.post(
        "/v1/keys/verify", content=b"x" * (1 << 21), headers={"content-type": "application/json"}
    )
    # then
    assert answer.status_code == 413 and routed == []


async def test_under_a_root_path_the_route_is_matched_as_the_router_matches_it(
    app: Starlette, routed: list[str]
) -> None:
    # given a server mounted under /keyward (uvicorn --root-path: the path carries the prefix)
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 40000), root_path="/keyward")
    async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
        # when
        answer = await http.post("/keyward/v1/keys/verify", json=MALFORMED)
    # then
    assert answer.status_code == 200 and answer.json()["code"] == "MALFORMED"
    assert routed == []


async def test_websocket_and_lifespan_scopes_pass_through() -> None:
    # given
    seen: list[str] = []

    async def rest(scope: Any, receive: Any, send: Any) -> None:
        seen.append(f"app {scope['type']}")

    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        seen.append(f"endpoint {scope['type']}")

    direct = DirectRoute(rest, method="POST", path="/v1/keys/verify", endpoint=endpoint)
    # when
    for scope in (
        {"type": "websocket", "path": "/v1/keys/verify"},
        {"type": "lifespan"},
        {"type": "http", "method": "POST", "path": "/v1/keys/verify", "root_path": ""},
    ):
        await direct(scope, None, None)  # type: ignore[arg-type]
    # then
    assert seen == ["app websocket", "app lifespan", "endpoint http"]
