"""POST /v1/leaks in GitHub's secret-scanning partner format, for every kind of Keyward credential."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from app.clock import utcnow
from app.main import create_app
from app.models import ApiKey, AuditEvent, ManagementToken, Session, WebhookEndpoint, WebhookEvent
from app.security import tokens
from app.security.tokens import TokenKind
from app.settings import Settings
from tests.support.api import Api
from tests.support.populated_workspace import World, build_world
from tests.support.running_app import CLIENT_IP, empty_tables
from tests.support.sql_statements import statements
from tests.support.webhooks import create_endpoint

GITHUB_URL = "https://github.com/acme/site/blob/abc123/config.env"
VIEWER = "{ viewer { kind } }"
WORKSPACE = "{ viewer { workspace { revokeLeakedCredentials } } }"
SETTINGS = (
    "mutation($v: Boolean!) { updateWorkspaceSettings(input: {revokeLeakedCredentials: $v}) { userErrors { code } } }"
)
ACCEPT = "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { userErrors { code } } }"
TOKEN = "query($id: ID!) { node(id: $id) { ... on ManagementToken { status leakedAt revokedAt } } }"


def report(*values: str, url: str = GITHUB_URL, source: str = "content") -> list[dict[str, str]]:
    return [{"token": v, "type": "keyward_token", "url": url, "source": source} for v in values]


async def leak(api: Api, entries: object) -> httpx.Response:
    return await api.http.post("/v1/leaks", json=entries)


async def test_each_kind_of_live_credential_is_revoked_on_first_sight(api: Api) -> None:
    # given
    world = await build_world(api)
    endpoint_id, signing_secret = await create_endpoint(
        api, world.owner, "https://hooks.example.com/in", ["CREDENTIAL_LEAKED"]
    )
    # when
    response = await leak(api, report(world.token_secret, world.api_key_secret, world.member.session, signing_secret))
    # then: GitHub's answer format, every one a true positive
    assert response.status_code == 200
    assert response.json() == [
        {"token_raw": world.token_secret, "token_type": "keyward_token", "label": "true_positive"},
        {"token_raw": world.api_key_secret, "token_type": "keyward_token", "label": "true_positive"},
        {"token_raw": world.member.session, "token_type": "keyward_token", "label": "true_positive"},
        {"token_raw": signing_secret, "token_type": "keyward_token", "label": "true_positive"},
    ]
    # the management token is revoked, the API key deleted, the session ended
    assert (await api.post(VIEWER, token=world.token_secret)).status_code == 401
    verify = await api.http.post("/v1/keys/verify", json={"key": world.api_key_secret})
    assert verify.json()["valid"] is False
    assert (await api.post(VIEWER, token=world.member.session)).status_code == 401
    assert (await api.post(VIEWER, token=world.owner.session)).status_code == 200  # other sessions live on
    token = (await api.ok(TOKEN, {"id": world.token_id}, world.owner.session))["node"]
    assert token["status"] == "REVOKED" and token["leakedAt"]
    # the signing secret is flagged, not rolled
    endpoint = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { secretLeakedAt enabled } } }",
        {"id": endpoint_id},
        world.owner.session,
    )
    assert endpoint["node"]["secretLeakedAt"] and endpoint["node"]["enabled"]
    # audited with the URL and the source, never the value
    leaked = await AuditEvent.filter(action="credential.leaked").order_by("id")
    assert [(e.target_type, e.details["action"]) for e in leaked] == [
        ("ManagementToken", "REVOKED"),
        ("ApiKey", "DELETED"),
        ("Session", "REVOKED"),
        ("WebhookEndpoint", "FLAGGED"),
    ]
    assert all(e.details["url"] == GITHUB_URL and e.details["source"] == "content" for e in leaked)
    assert all(e.actor_kind == "SYSTEM" and e.ip_address == CLIENT_IP for e in leaked)
    revoked = await AuditEvent.filter(action="management_token.revoked")
    assert [e.details["reason"] for e in revoked] == ["leaked"]
    everything = str([(e.details, e.action) for e in await AuditEvent.all()])
    for value in (world.token_secret, world.api_key_secret, world.member.session, signing_secret):
        assert value not in everything
    # and CREDENTIAL_LEAKED is in the outbox for the endpoint that listens, without the values
    events = await WebhookEvent.filter(type="credential.leaked").order_by("id")
    assert [e.data["credential"]["kind"] for e in events] == [
        "MANAGEMENT_TOKEN",
        "API_KEY",
        "SESSION",
        "WEBHOOK_SIGNING_SECRET",
    ]
    assert all(e.data["leak"] == {"url": GITHUB_URL, "source": "content"} for e in events)
    assert signing_secret not in str([e.data for e in events]) and world.token_secret not in str(
        [e.data for e in events]
    )


async def test_a_second_report_of_the_same_credential_changes_nothing(api: Api) -> None:
    world = await build_world(api)
    first = await leak(api, report(world.token_secret, world.token_secret))
    assert [v["label"] for v in first.json()] == ["true_positive", "true_positive"]
    again = await leak(api, report(world.token_secret))
    assert again.json()[0]["label"] == "true_positive"  # still one of ours, already revoked
    assert await AuditEvent.filter(action="credential.leaked").count() == 1


async def test_a_leaked_invitation_is_revoked_and_can_no_longer_be_accepted(api: Api) -> None:
    # given: a pending ADMIN invitation, in a workspace that would only flag its credentials
    owner = await api.sign_up()
    await api.ok(SETTINGS, {"v": False}, owner.session)
    email, invite_token = await api.invite(owner, "ADMIN")
    # when: its link turns up in a public repository, and is reported twice
    first = await leak(api, report(invite_token))
    again = await leak(api, report(invite_token))
    # then: one of ours, revoked once, audited and announced without the value
    assert first.json() == [{"token_raw": invite_token, "token_type": "keyward_token", "label": "true_positive"}]
    assert again.json()[0]["label"] == "true_positive"
    accepted = await api.gql(ACCEPT, {"input": {"inviteToken": invite_token, "password": "a new long passphrase"}})
    assert accepted["data"]["acceptInvitation"]["userErrors"][0]["code"] == "INVITATION_REVOKED"
    leaked = await AuditEvent.filter(action="credential.leaked")
    assert [(e.target_type, e.details["action"], e.details["email"]) for e in leaked] == [
        ("Invitation", "REVOKED", email)
    ]
    revoked = await AuditEvent.filter(action="invitation.revoked")
    assert [e.details["reason"] for e in revoked] == ["leaked"]
    assert invite_token not in str([(e.details, e.action) for e in await AuditEvent.all()])


async def test_a_workspace_that_only_flags_keeps_its_credentials_working(api: Api) -> None:
    # given
    world = await build_world(api)
    await api.ok(SETTINGS, {"v": False}, world.owner.session)
    assert (await api.ok(WORKSPACE, token=world.owner.session))["viewer"]["workspace"][
        "revokeLeakedCredentials"
    ] is False
    # when
    response = await leak(api, report(world.token_secret, world.api_key_secret, world.member.session))
    # then: flagged, audited, still working
    assert [v["label"] for v in response.json()] == ["true_positive"] * 3
    assert (await api.post(VIEWER, token=world.token_secret)).status_code == 200
    assert (await api.http.post("/v1/keys/verify", json={"key": world.api_key_secret})).json()["valid"] is True
    assert (await api.post(VIEWER, token=world.member.session)).status_code == 200
    token = (await api.ok(TOKEN, {"id": world.token_id}, world.owner.session))["node"]
    assert token["status"] == "ACTIVE" and token["leakedAt"]
    key = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on ApiKey { leakedAt } } }",
        {"id": world.api_key_id},
        world.owner.session,
    )
    assert key["node"]["leakedAt"]
    actions = [e.details["action"] for e in await AuditEvent.filter(action="credential.leaked").order_by("id")]
    assert actions == ["FLAGGED", "FLAGGED", "FLAGGED"]


async def test_values_that_are_not_keyward_credentials_cost_no_database_query(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: garbage, a bad checksum, other vendors' tokens
    valid = tokens.generate(TokenKind.MANAGEMENT).value
    bad_checksum = valid[:-1] + ("A" if valid[-1] != "A" else "B")
    values = ["ghp_" + "a" * 36, "", "kwm_short", bad_checksum, "x" * 5000, "kwk_" + "!" * 36]
    # when
    with statements(monkeypatch) as seen:
        response = await leak(api, report(*values))
    # then
    assert response.status_code == 200
    assert [v["label"] for v in response.json()] == ["false_positive"] * len(values)
    assert seen == []
    # and a checksum-valid value that was never issued costs exactly one indexed lookup
    with statements(monkeypatch) as seen:
        response = await leak(api, report(valid))
    assert response.json()[0]["label"] == "false_positive"
    assert len(seen) == 1 and "token_hash" in seen[0]


async def test_the_body_is_bounded_and_checked(api: Api) -> None:
    at_limit = report(*(["not-a-token"] * 1000))
    assert (await leak(api, at_limit)).status_code == 200
    over = await leak(api, report(*(["not-a-token"] * 1001)))
    assert over.status_code == 413 and "1,000" in over.json()["error"]["message"]
    for bad in ({"token": "x"}, [{"type": "t"}], [{"token": 5}], "text", None):
        response = await leak(api, bad)
        assert response.status_code == 400, bad
    not_json = await api.http.post("/v1/leaks", content=b"{not json")
    assert not_json.status_code == 400
    assert (await api.http.get("/v1/leaks")).status_code == 405


@pytest_asyncio.fixture
async def limited_api(settings: Settings) -> AsyncIterator[Api]:
    application: Starlette = create_app(settings.model_copy(update={"leaks_rate_limit": "3/minute"}))
    async with application.router.lifespan_context(application):
        await empty_tables()
        transport = httpx.ASGITransport(app=application, client=(CLIENT_IP, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
            yield Api(http)


async def test_reports_are_rate_limited_per_client_address(limited_api: Api) -> None:
    for _ in range(3):
        assert (await leak(limited_api, report("nope"))).status_code == 200
    refused = await leak(limited_api, report("nope"))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # another client address has its own allowance
    app = limited_api.http._transport.app  # type: ignore[attr-defined]
    other = httpx.ASGITransport(app=app, client=("198.51.100.4", 40000))
    async with httpx.AsyncClient(transport=other, base_url="http://keyward.test") as http:
        assert (await http.post("/v1/leaks", json=report("nope"))).status_code == 200


async def test_an_ipv6_client_is_limited_by_its_64_prefix(limited_api: Api) -> None:
    """As the log-in and sign-up budgets count it: one host usually holds a whole /64, and a new address of it
    for every request had a new allowance each time (every report may cost 1,000 lookups)."""
    app = limited_api.http._transport.app  # type: ignore[attr-defined]

    async def from_address(address: str) -> int:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
            return (await http.post("/v1/leaks", json=report("nope"))).status_code

    assert [await from_address(f"2001:db8:1:2::{n}") for n in range(1, 5)] == [200, 200, 200, 429]
    assert await from_address("2001:db8:1:3::1") == 200  # another /64 has its own allowance


async def test_concurrent_reports_of_one_token_revoke_and_audit_it_once(api: Api) -> None:
    world = await build_world(api)
    responses = await asyncio.gather(*(leak(api, report(world.token_secret)) for _ in range(32)))
    assert all(r.status_code == 200 and r.json()[0]["label"] == "true_positive" for r in responses)
    assert await AuditEvent.filter(action="credential.leaked").count() == 1
    assert await AuditEvent.filter(action="management_token.revoked").count() == 1
    assert await ManagementToken.filter(revoked_at__isnull=False).count() == 1


async def test_a_leaked_api_key_is_deleted_and_its_deletion_emitted(api: Api) -> None:
    world: World = await build_world(api)
    await create_endpoint(api, world.owner, "https://hooks.example.com/in", ["API_KEY_DELETED", "CREDENTIAL_LEAKED"])
    await leak(api, report(world.api_key_secret))
    assert not await ApiKey.filter(key_prefix=world.api_key_secret[:12]).exists()
    types = [e.type for e in await WebhookEvent.all().order_by("id")]
    assert types == ["api_key.deleted", "credential.leaked"]
    deleted = await AuditEvent.get(action="api_key.deleted", target_id__contains="ApiKey")
    assert deleted.details["reason"] == "leaked"
    assert await Session.filter(revoked_at__isnull=False).count() == 0
    # reported again, the key is gone: a false_positive, as any value Keyward does not hold (as the README says)
    again = await leak(api, report(world.api_key_secret))
    assert again.json()[0]["label"] == "false_positive"
    assert await AuditEvent.filter(action="api_key.deleted").count() == 1


async def test_real_answers_match_the_openapi_document(limited_api: Api) -> None:
    from openapi_core import OpenAPI

    from app.http.openapi import openapi_document
    from tests.test_openapi import check_against_spec

    spec = OpenAPI.from_dict(openapi_document())
    answers = {
        "200": await leak(limited_api, report("nope", tokens.generate(TokenKind.API_KEY).value)),
        "400": await leak(limited_api, {"token": "x"}),
        "413": await leak(limited_api, report(*(["x"] * 1001))),
        "429": await leak(limited_api, report("nope")),
        "413 body": await limited_api.http.post(
            "/v1/leaks", content=b"[" + b" " * (300 * 1024) + b"]", headers={"content-type": "application/json"}
        ),
    }
    for name, response in answers.items():
        assert str(response.status_code) == name.split(" ")[0], (name, response.text[:200])
        check_against_spec(spec, response)


ROLL = """mutation($id: ID!, $hours: Int!) {
  rollWebhookEndpointSecret(input: {id: $id, previousSecretValidHours: $hours}) { signingSecret userErrors { code } } }"""


async def test_a_leaked_previous_signing_secret_stops_signing_at_once(api: Api) -> None:
    """After a roll the old secret signs beside the new one for its grace, and receivers accept either: whoever
    holds a leaked old secret could sign deliveries they accept until the grace ends. Reporting it ends it."""
    # given: a secret rolled with a 2-hour grace, in a workspace that would only flag its credentials
    world = await build_world(api)
    await api.ok(SETTINGS, {"v": False}, world.owner.session)
    endpoint_id, old_secret = await create_endpoint(
        api, world.owner, "https://hooks.example.com/in", ["CREDENTIAL_LEAKED"]
    )
    new_secret = (await api.ok(ROLL, {"id": endpoint_id, "hours": 2}, world.owner.session))[
        "rollWebhookEndpointSecret"
    ]["signingSecret"]
    # when: the old one is reported, twice
    first = await leak(api, report(old_secret))
    again = await leak(api, report(old_secret))
    # then: ours, its grace over (deliveries are signed with the new secret alone), audited once, without the value
    assert first.json()[0]["label"] == again.json()[0]["label"] == "true_positive"
    endpoint = await WebhookEndpoint.get(signing_secret=new_secret)
    assert endpoint.previous_secret_expires_at is not None and endpoint.previous_secret_expires_at <= utcnow()
    leaked = await AuditEvent.filter(action="credential.leaked")
    assert [(e.target_type, e.details["kind"], e.details["action"]) for e in leaked] == [
        ("WebhookEndpoint", "WEBHOOK_SIGNING_SECRET", "REVOKED")
    ]
    assert old_secret not in str([e.details for e in await AuditEvent.all()])
    # and the current secret, reported, is still only flagged (a rolled one would reach no receiver)
    assert (await leak(api, report(new_secret))).json()[0]["label"] == "true_positive"
    assert (await WebhookEndpoint.get(id=endpoint.id)).signing_secret == new_secret
