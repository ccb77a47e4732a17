"""IP allowlists of management tokens and API keys, through the public API on the suite's database.

The address that counts is the client address after the trusted-proxy rules (uvicorn's proxy
headers middleware, as `keyward serve` runs it); a refusal is a 401 (tokens) or IP_NOT_ALLOWED
(verify), never recorded as a use, and audited once per credential, address and minute.
"""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import clock
from app.credentials.refusals import ADDRESSES_PER_MINUTE
from app.models import ApiKey, AuditEvent, ManagementToken
from app.security import ip_allowlist
from app.settings import Settings
from tests.support.api import TOKEN_FIELDS, Account, Api
from tests.support.client_addresses import apis_from
from tests.support.running_app import CLIENT_IP
from tests.test_credential_cache import PATIENT, WARM_UP, _serve

VIEWER = "{ viewer { kind } }"
ALLOWED = "198.51.100.10"
ELSEWHERE = "192.0.2.99"
PROXY = "10.1.1.1"
CREATE_TOKEN = f"""
mutation($input: CreateManagementTokenInput!) {{
  createManagementToken(input: $input) {{
    secret managementToken {{ {TOKEN_FIELDS} allowedIps }} userErrors {{ field message code }}
  }}
}}"""
CREATE_API_KEY = """
mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { secret apiKey { id allowedIps } userErrors { field message code } }
}"""


async def _token(api: Api, owner: Account, allowed_ips: list[str] | None) -> tuple[dict[str, object], str]:
    data = await api.ok(
        CREATE_TOKEN,
        {"input": {"name": f"ci-{len(str(allowed_ips))}", "permissions": ["VIEW_PROJECTS"], "allowedIps": allowed_ips}},
        owner.session,
    )
    payload = data["createManagementToken"]
    return payload["managementToken"], payload["secret"]


async def _key(api: Api, owner: Account, allowed_ips: list[str] | None) -> str:
    project = await api.create_project(owner.session)
    data = await api.ok(
        CREATE_API_KEY, {"input": {"projectId": project, "name": "edge", "allowedIps": allowed_ips}}, owner.session
    )
    return str(data["createApiKey"]["secret"])


async def _verify(api: Api, key: str) -> dict[str, object]:
    response = await api.http.post("/v1/keys/verify", json={"key": key})
    assert response.status_code == 200, response.text
    return response.json()


async def _refusals() -> list[AuditEvent]:
    return await AuditEvent.filter(action="credential.ip_refused").order_by("id")


# ---- what an allowlist may hold -----------------------------------------------------------------


def test_entries_are_normalised() -> None:
    assert ip_allowlist.normalise(
        [
            " 10.0.0.1/32 ",
            "10.0.0.1",
            "2001:0db8:0000:0000:0000:0000:0000:0001",
            "2001:db8::1/128",
            "2001:DB8::/32",
            "::ffff:192.0.2.1",
            "::ffff:192.0.2.0/120",
            "192.168.0.0/16",
        ]
    ) == ["10.0.0.1", "2001:db8::1", "2001:db8::/32", "192.0.2.1", "192.0.2.0/24", "192.168.0.0/16"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("10.0.0.5/24", "'10.0.0.5/24' has host bits set: write the range as 10.0.0.0/24"),
        ("10.0.0.256", "'10.0.0.256' is not an IP address or a CIDR range"),
        ("example.com", "'example.com' is not an IP address or a CIDR range"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not an IP address or a CIDR range"),
        ("  ", "An allowlist entry is empty"),
        ("fe80::1%eth0", "'fe80::1%eth0' has a zone index"),
    ],
)
async def test_a_bad_entry_is_a_user_error_naming_it(api: Api, entry: str, message: str) -> None:
    owner = await api.sign_up()
    for mutation, variables in [
        (CREATE_TOKEN, {"input": {"name": "t", "permissions": ["VIEW_PROJECTS"], "allowedIps": ["10.0.0.1", entry]}}),
        (
            CREATE_API_KEY,
            {
                "input": {
                    "projectId": await api.create_project(owner.session),
                    "name": "k",
                    "allowedIps": ["::1", entry],
                }
            },
        ),
    ]:
        # when
        body = await api.gql(mutation, variables, owner.session)
        # then: nothing is created, and the error points at the entry
        payload = next(iter(body["data"].values()))
        assert payload["secret"] is None, payload
        [error] = payload["userErrors"]
        assert (error["code"], error["field"]) == ("INVALID_IP", ["allowedIps", "1"])
        assert message in error["message"], error
    assert await ManagementToken.all().count() == 0 and await ApiKey.all().count() == 0


async def test_at_most_100_entries(api: Api) -> None:
    owner = await api.sign_up()
    hundred = [f"10.0.{i // 250}.{i % 250}" for i in range(100)]
    # 100: accepted, all kept
    token, _ = await _token(api, owner, hundred)
    assert token["allowedIps"] == hundred
    # 101: refused
    body = await api.gql(
        CREATE_TOKEN,
        {"input": {"name": "many", "permissions": ["VIEW_PROJECTS"], "allowedIps": [*hundred, "10.9.9.9"]}},
        owner.session,
    )
    [error] = body["data"]["createManagementToken"]["userErrors"]
    assert error["code"] == "TOO_MANY_ENTRIES" and error["field"] == ["allowedIps"]
    assert "at most 100" in error["message"] and "101" in error["message"]


async def test_the_types_show_the_normalised_list_and_none_means_any_address(api: Api) -> None:
    owner = await api.sign_up()
    # given
    listed, _ = await _token(api, owner, ["2001:db8:0:0::7", "203.0.113.0/24", "2001:db8::7"])
    anywhere, _ = await _token(api, owner, None)
    empty, _ = await _token(api, owner, [])
    # then
    assert listed["allowedIps"] == ["2001:db8::7", "203.0.113.0/24"]
    assert anywhere["allowedIps"] == [] and empty["allowedIps"] == []
    stored = await ManagementToken.all().order_by("id").values_list("allowed_ips", flat=True)
    assert stored == ['["2001:db8::7","203.0.113.0/24"]', None, None]


# ---- the request path ------------------------------------------------------------------------


async def test_a_token_is_refused_from_an_address_its_allowlist_does_not_hold(app: Starlette, api: Api) -> None:
    owner = await api.sign_up()
    token, secret = await _token(api, owner, [f"{ALLOWED}/32", "2001:db8::/48"])
    async with apis_from(app, ALLOWED, ELSEWHERE, "2001:db8:0:1::5", "2001:db8:1::5") as (here, there, v6_in, v6_out):
        # from an allowed address or range: accepted
        response = await here.post(VIEWER, token=secret)
        assert response.status_code == 200, response.text
        assert (await v6_in.post(VIEWER, token=secret)).status_code == 200
        # from elsewhere: 401, saying which address was refused and why
        for api_elsewhere, address in ((there, ELSEWHERE), (v6_out, "2001:db8:1::5")):
            response = await api_elsewhere.post(VIEWER, token=secret)
            assert response.status_code == 401
            [error] = response.json()["errors"]
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
            assert "not allowed from your address" in error["message"] and address in error["message"]
            assert "management token" in error["message"]
    # the refusal is audited with the address; a refused request is not a use
    await app.state.usage.flush_now()
    row = await ManagementToken.get(name=token["name"])
    assert [(e.ip_address, e.target_id, e.details) for e in await _refusals()] == [
        (address, f"ManagementToken:{row.id}", {"kind": "MANAGEMENT_TOKEN", "address": address})
        for address in (ELSEWHERE, "2001:db8:1::5")
    ]
    assert row.last_used_ip in (ALLOWED, "2001:db8:0:1::5")


async def test_verify_answers_ip_not_allowed(app: Starlette, api: Api) -> None:
    owner = await api.sign_up()
    key = await _key(api, owner, ["198.51.100.0/24"])
    async with apis_from(app, ALLOWED, ELSEWHERE) as (here, there):
        assert (await _verify(here, key))["valid"] is True
        refused = await _verify(there, key)
    assert refused["valid"] is False and refused["code"] == "IP_NOT_ALLOWED"
    assert "not allowed from this address" in str(refused["message"])
    [event] = await _refusals()
    assert event.ip_address == ELSEWHERE and event.details == {"kind": "API_KEY", "address": ELSEWHERE}
    assert event.actor_kind == "SYSTEM"


async def test_a_refusal_is_audited_once_per_address_and_minute(app: Starlette, api: Api) -> None:
    owner = await api.sign_up()
    _, secret = await _token(api, owner, [ALLOWED])
    others = [f"192.0.2.{i}" for i in range(1, ADDRESSES_PER_MINUTE + 3)]
    try:
        async with apis_from(app, ELSEWHERE, *others) as (there, *many):
            # the same address, again and again: one event
            for _ in range(5):
                assert (await there.post(VIEWER, token=secret)).status_code == 401
            assert len(await _refusals()) == 1
            # a minute later: one more
            clock.advance(timedelta(seconds=61))
            assert (await there.post(VIEWER, token=secret)).status_code == 401
            assert len(await _refusals()) == 2
            # many addresses within one minute: at most ADDRESSES_PER_MINUTE events, every one refused
            clock.advance(timedelta(seconds=61))
            for other in many:
                assert (await other.post(VIEWER, token=secret)).status_code == 401
            assert len(await _refusals()) == 2 + ADDRESSES_PER_MINUTE
    finally:
        clock.reset()


async def test_a_cache_hit_checks_the_allowlist_too(redis_settings: Settings) -> None:
    async for api, application in _serve(redis_settings.model_copy(update=PATIENT)):
        owner = await api.sign_up()
        _, secret = await _token(api, owner, [CLIENT_IP])
        key = await _key(api, owner, [CLIENT_IP])
        # given both answered from the cache for the allowed address
        for _ in range(WARM_UP):
            assert (await api.post(VIEWER, token=secret)).status_code == 200
            assert (await _verify(api, key))["valid"] is True
        cache = application.state.credentials.cache
        assert len(cache) == 2
        # then another address is refused all the same
        async with apis_from(application, ELSEWHERE) as (there,):
            for _ in range(2):
                assert (await there.post(VIEWER, token=secret)).status_code == 401
                assert (await _verify(there, key))["code"] == "IP_NOT_ALLOWED"
        # and the allowed address is still answered
        assert (await api.post(VIEWER, token=secret)).status_code == 200


# ---- which address counts: the trusted-proxy rules ---------------------------------------------


@pytest_asyncio.fixture
async def behind_proxy(app: Starlette) -> AsyncIterator[tuple[Api, Api]]:
    """(a client that is the trusted proxy, a client that is not) of the app behind uvicorn's proxy headers."""
    proxied = ProxyHeadersMiddleware(app, trusted_hosts=PROXY)
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=proxied, client=(PROXY, 1)), base_url="http://keyward.test"
        ) as trusted,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=proxied, client=(ELSEWHERE, 1)), base_url="http://keyward.test"
        ) as untrusted,
    ):
        yield Api(trusted), Api(untrusted)


async def test_the_address_a_trusted_proxy_forwards_is_the_one_judged(api: Api, behind_proxy: tuple[Api, Api]) -> None:
    trusted, untrusted = behind_proxy
    owner = await api.sign_up()
    _, secret = await _token(api, owner, [ALLOWED])
    key = await _key(api, owner, [ALLOWED])
    # from the trusted proxy, forwarding an allowed client: accepted
    trusted.http.headers["X-Forwarded-For"] = f"{ALLOWED}, {PROXY}"
    assert (await trusted.post(VIEWER, token=secret)).status_code == 200
    assert (await _verify(trusted, key))["valid"] is True
    # from the trusted proxy, forwarding another client: refused, though the proxy itself is listed nowhere
    trusted.http.headers["X-Forwarded-For"] = ELSEWHERE
    assert (await trusted.post(VIEWER, token=secret)).status_code == 401
    assert (await _verify(trusted, key))["code"] == "IP_NOT_ALLOWED"
    # from a peer that is not a trusted proxy, claiming an allowed client: its own address counts
    untrusted.http.headers["X-Forwarded-For"] = ALLOWED
    assert (await untrusted.post(VIEWER, token=secret)).status_code == 401
    assert (await _verify(untrusted, key))["code"] == "IP_NOT_ALLOWED"
    assert {e.ip_address for e in await _refusals()} == {ELSEWHERE}


async def test_a_forwarded_value_that_is_not_an_address_is_allowed_by_no_allowlist(
    api: Api, behind_proxy: tuple[Api, Api]
) -> None:
    trusted, _ = behind_proxy
    owner = await api.sign_up()
    _, secret = await _token(api, owner, ["0.0.0.0/0", "::/0"])
    trusted.http.headers["X-Forwarded-For"] = "not-an-address"
    response = await trusted.post(VIEWER, token=secret)
    assert response.status_code == 401 and "(unknown)" in response.json()["errors"][0]["message"]
