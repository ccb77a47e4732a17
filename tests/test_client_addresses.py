"""A client address is parsed as an IP address wherever it enters; anything else is recorded as unknown.

Requests come through uvicorn's own proxy headers middleware (what `keyward serve` runs) from a
trusted proxy, carrying X-Forwarded-For values that are not addresses: the 65-character value that
blocked every flush on PostgreSQL, and the 100-character one that made logIn and logOut answer
INTERNAL_SERVER_ERROR. Every entry point (signUp, logIn, logOut, a management token's request,
/v1/keys/verify, /v1/leaks) answers as usual and stores no such value; a real address is stored.
"""

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.models import ApiKey, AuditEvent, ManagementToken
from app.models.people import Session
from tests.support.api import LOG_IN, PASSWORD, Api
from tests.support.running_app import CLIENT_IP

NOT_ADDRESSES = ["A" * 65, "B" * 100, "1.2.3.4.5", "999.1.1.1", "<script>"]
REAL_ADDRESS = "198.51.100.23"


@pytest_asyncio.fixture
async def proxied(app: Starlette) -> AsyncIterator[Api]:
    """The app behind uvicorn's proxy headers middleware, reached from a proxy it trusts."""
    transport = httpx.ASGITransport(app=ProxyHeadersMiddleware(app, trusted_hosts=CLIENT_IP), client=(CLIENT_IP, 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
        yield Api(http)


async def _every_entry_point(api: Api, forwarded_for: str) -> None:
    """signUp, logIn, logOut, a token's request, verify and leaks, all from `forwarded_for`."""
    headers = {"X-Forwarded-For": forwarded_for}
    api.http.headers.update(headers)
    owner = await api.sign_up()
    logged_in = (await api.ok(LOG_IN, {"input": {"email": owner.email, "password": PASSWORD}}))["logIn"]
    token_id, token = await api.create_token(owner, ["VIEW_PROJECTS", "MANAGE_PROJECTS", "CREATE_API_KEY"])
    project_id = await api.create_project(token)
    _, key = await api.create_api_key(token, project_id)
    verified = await api.http.post("/v1/keys/verify", json={"key": key})
    leaks = await api.http.post("/v1/leaks", json=[])
    logged_out = await api.ok("mutation { logOut { ok } }", token=logged_in["sessionToken"])
    assert verified.status_code == 200 and verified.json()["valid"] is True, verified.text
    assert leaks.status_code < 500, leaks.text
    assert logged_out["logOut"]["ok"] is True


async def _stored_addresses(app: Starlette) -> set[str | None]:
    await app.state.usage.flush_now()
    stored: set[str | None] = set()
    for model, column in (
        (Session, "ip_address"),
        (AuditEvent, "ip_address"),
        (ManagementToken, "last_used_ip"),
        (ApiKey, "last_used_ip"),
    ):
        stored |= set(await model.all().values_list(column, flat=True))
    return stored


@pytest.mark.parametrize("forwarded_for", NOT_ADDRESSES, ids=lambda value: f"{value[:6]}…{len(value)}")
async def test_a_forwarded_value_that_is_not_an_address_is_stored_as_unknown(
    app: Starlette, proxied: Api, forwarded_for: str
) -> None:
    # when
    await _every_entry_point(proxied, forwarded_for)
    # then
    assert await _stored_addresses(app) == {None}


async def test_a_forwarded_address_is_what_is_stored(app: Starlette, proxied: Api) -> None:
    # when
    await _every_entry_point(proxied, f"{REAL_ADDRESS}, {CLIENT_IP}")
    # then: the client the trusted proxy saw, everywhere
    assert await _stored_addresses(app) == {REAL_ADDRESS}
