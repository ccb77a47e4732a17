"""Webhooks end to end against a real HTTP receiver on loopback: the outbox, the body and its signature,
retries and back-off (with an injected clock), order per endpoint, giving up, disabling, the secret roll,
tests and redeliveries. The loopback receiver is let through by KEYWARD_WEBHOOK_ALLOWED_HOSTS."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from app.models import AuditEvent, ManagementToken, WebhookEndpoint
from app.security.permissions import Permission
from app.security.principal import Principal, PrincipalKind
from app.services import management_tokens
from app.services.stale_sweep import run_sweep
from app.services.webhook_delivery import RETRY_WINDOW, DeliveryConfig, deliver_due, retry_delay, signing_secrets
from app.services.webhooks import MAX_ENDPOINTS_PER_WORKSPACE
from app.settings import Settings, get_settings
from app.webhooks import signing
from tests.support.api import Api
from tests.support.populated_workspace import build_world
from tests.support.races import race, racing_api
from tests.support.webhook_receiver import Answer, Receiver, webhook_receiver
from tests.support.webhooks import (
    CREATE_ENDPOINT,
    clock_at_now,
    create_endpoint,
    deliveries,
    endpoint_row,
    outbox_counts,
)

LONGEST = 1.0  # rng: every back-off at its ceiling
REVOKE = "mutation($id: ID!) { revokeManagementToken(input: {id: $id}) { userErrors { code } } }"
ROTATE = "mutation($id: ID!) { rotateManagementToken(input: {id: $id}) { secret userErrors { code } } }"
DELETE_KEY = "mutation($id: ID!) { deleteApiKey(input: {id: $id}) { userErrors { code } } }"
DELETE_PROJECT = "mutation($id: ID!) { deleteProject(input: {id: $id}) { userErrors { code } } }"
SEND_TEST = "mutation($id: ID!) { sendTestWebhook(input: {id: $id}) { webhookDelivery { id eventId status } userErrors { code } } }"
REDELIVER = "mutation($id: ID!) { redeliverWebhook(input: {id: $id}) { webhookDelivery { id eventId status } userErrors { code } } }"
ROLL = """mutation($id: ID!, $hours: Int!) { rollWebhookEndpointSecret(input: {id: $id, previousSecretValidHours: $hours}) {
  signingSecret userErrors { code } } }"""
UPDATE = """mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) {
  webhookEndpoint { enabled disabledAt failingSince } userErrors { code } } }"""
ALL_EVENTS = [
    "MANAGEMENT_TOKEN_CREATED",
    "MANAGEMENT_TOKEN_UPDATED",
    "MANAGEMENT_TOKEN_ROTATED",
    "MANAGEMENT_TOKEN_REVOKED",
    "CREDENTIAL_EXPIRING",
    "STALE_TOKEN_REPORT_READY",
    "API_KEY_CREATED",
    "API_KEY_DELETED",
    "MEMBER_CHANGED",
    "CREDENTIAL_LEAKED",
]


@pytest.fixture
def settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The suite's settings, plus plain http and the loopback receiver allowed, and a short timeout."""
    monkeypatch.setenv("KEYWARD_WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("KEYWARD_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("KEYWARD_WEBHOOK_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as hooks:
        yield hooks


def config(settings: Settings) -> DeliveryConfig:
    return DeliveryConfig.from_settings(settings)


async def test_a_change_is_delivered_signed_with_the_body_receivers_expect(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    # given
    world = await build_world(api)
    endpoint_id, secret = await create_endpoint(api, world.owner, receiver.url, ["MANAGEMENT_TOKEN_REVOKED"])
    assert secret.startswith("kwh_")
    # when
    await api.ok(REVOKE, {"id": world.token_id}, world.owner.session)
    clock = clock_at_now()
    result = await deliver_due(config(settings), clock=clock)
    # then
    assert result.delivered == 1
    [request] = receiver.wait_for(1)
    header = request.headers["keyward-signature"]
    assert header.startswith(f"t={int(clock.now.timestamp())},v1=")
    assert signing.verify(request.body, header, secret, now=clock.now.timestamp())
    assert not signing.verify(request.body, header, "kwh_" + "x" * 36, now=clock.now.timestamp())
    assert not signing.verify(request.body, header, secret, now=clock.now.timestamp() + 301)  # 5 minutes' tolerance
    assert not signing.verify(request.body + b" ", header, secret, now=clock.now.timestamp())
    body = request.json()
    assert set(body) == {"id", "type", "createdAt", "workspaceId", "data"}
    assert body["id"].startswith("evt_") and body["type"] == "management_token.revoked"
    assert body["workspaceId"] == world.owner.workspace_id
    token = body["data"]["managementToken"]
    assert token["id"] == world.token_id and token["status"] == "REVOKED" and token["revokedAt"]
    assert body["data"]["actor"]["label"] == world.owner.email
    assert request.headers["keyward-event"] == "management_token.revoked"
    assert request.headers["keyward-event-id"] == body["id"]
    assert request.headers["content-type"] == "application/json"
    # and no secret of any kind is in what was sent
    sent = request.body.decode() + str(request.headers)
    for value in (world.token_secret, world.api_key_secret, world.owner.session, secret):
        assert value not in sent
    [delivery] = await deliveries(api, world.owner, endpoint_id)
    assert delivery["status"] == "DELIVERED" and delivery["attempts"] == 1 and delivery["lastStatusCode"] == 200
    assert delivery["eventId"] == body["id"] and delivery["event"] == "MANAGEMENT_TOKEN_REVOKED"
    assert delivery["nextAttemptAt"] is None and delivery["deliveredAt"]


async def test_every_mutation_that_exists_emits_its_event_in_order(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    # given: an endpoint for every event, and one for API keys only
    world = await build_world(api)
    await create_endpoint(api, world.owner, receiver.url, ALL_EVENTS)
    # when
    token_id, _ = await api.create_token(world.owner, ["VIEW_PROJECTS"], "deploy")
    await api.ok(ROTATE, {"id": token_id}, world.owner.session)
    await api.ok(REVOKE, {"id": token_id}, world.owner.session)
    key_id, _ = await api.create_api_key(world.owner.session, world.project_id, "edge")
    await api.ok(DELETE_KEY, {"id": key_id}, world.owner.session)
    await api.ok(DELETE_PROJECT, {"id": world.project_id}, world.owner.session)  # holds the world's own key
    member = await api.add_member(world.owner, "MEMBER")
    await deliver_due(config(settings))
    # then: one event per change, in the order of the changes
    bodies = [r.json() for r in receiver.wait_for(8)]
    assert [b["type"] for b in bodies] == [
        "management_token.created",
        "management_token.rotated",
        "management_token.created",
        "management_token.revoked",
        "api_key.created",
        "api_key.deleted",
        "api_key.deleted",
        "member.changed",
    ]
    assert bodies[1]["data"]["replacement"]["replacesId"] == token_id
    assert bodies[6]["data"]["apiKey"]["id"] == world.api_key_id and bodies[6]["data"]["reason"] == "project deleted"
    assert bodies[7]["data"]["member"]["email"] == member.email and bodies[7]["data"]["change"] == "ADDED"
    assert len({b["id"] for b in bodies}) == 8


async def test_an_endpoint_gets_only_the_events_it_subscribed_to(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    world = await build_world(api)
    await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"], enabled=False)
    other = await api.sign_up(workspace="Other")
    await api.create_token(other, ["VIEW_PROJECTS"])  # another workspace's change
    await api.create_token(world.owner, ["VIEW_PROJECTS"])  # not subscribed to
    await api.create_api_key(world.owner.session, world.project_id, "subscribed")
    await deliver_due(config(settings))
    assert [r.json()["type"] for r in receiver.wait_for(1)] == ["api_key.created"]
    assert len(receiver.requests) == 1


async def test_a_rolled_back_change_sends_nothing(api: Api, settings: Settings, receiver: Receiver) -> None:
    # given
    world = await build_world(api)
    await create_endpoint(api, world.owner, receiver.url, ["MANAGEMENT_TOKEN_CREATED"])
    before = await outbox_counts()
    admin = Principal(kind=PrincipalKind.USER, workspace_id=world.workspace_pk, user_id=1, email="a@example.com")

    class Abandoned(Exception):
        pass

    # when: the service's transaction is part of one that fails after the change and its event were written
    with pytest.raises(Abandoned):
        async with in_transaction():
            created = await management_tokens.create_token(admin, "rolled back", [Permission.VIEW_PROJECTS])
            assert await ManagementToken.filter(id=created.token.id).exists()
            raise Abandoned
    # then: neither the token nor its event exists, and nothing is sent
    assert not await ManagementToken.filter(name="rolled back").exists()
    assert await outbox_counts() == before
    assert (await deliver_due(config(settings))).attempted == 0
    assert receiver.requests == []


async def test_failures_are_retried_with_exponential_back_off_until_delivered(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    # given: the receiver answers 500, then takes longer than the timeout, then 200
    world = await build_world(api)
    endpoint_id, _ = await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    receiver.script(500, Answer(status=200, delay=2.5), 503, 200)
    await api.create_api_key(world.owner.session, world.project_id, "retried")
    clock = clock_at_now()
    created = clock.now
    seen_next: list[datetime] = []
    # when / then: each attempt is due exactly when the back-off said, not a moment before
    for attempt, (status, error) in enumerate(
        [(500, "HTTP 500"), (None, "Timed out after 1 s"), (503, "HTTP 503")], start=1
    ):
        result = await deliver_due(config(settings), clock=clock, rng=lambda: LONGEST)
        assert result.attempted == 1 and result.delivered == 0
        [delivery] = await deliveries(api, world.owner, endpoint_id)
        assert delivery["attempts"] == attempt and delivery["status"] == "PENDING"
        assert delivery["lastStatusCode"] == status and error in delivery["lastError"]
        next_at = datetime.fromisoformat(delivery["nextAttemptAt"])
        assert next_at == clock.now + retry_delay(attempt, lambda: LONGEST)
        seen_next.append(next_at)
        clock.to(next_at - timedelta(seconds=1))
        assert (await deliver_due(config(settings), clock=clock)).attempted == 0  # not yet due
        clock.to(next_at)
    assert [b - a for a, b in zip([created, *seen_next], seen_next, strict=False)][1:] != []
    assert [round((n - p).total_seconds()) for p, n in zip(seen_next, seen_next[1:], strict=False)] == [60, 120]
    result = await deliver_due(config(settings), clock=clock)
    # then
    assert result.delivered == 1
    [delivery] = await deliveries(api, world.owner, endpoint_id)
    assert delivery["status"] == "DELIVERED" and delivery["attempts"] == 4 and delivery["lastError"] is None
    assert len(receiver.wait_for(4)) == 4
    assert len({r.json()["id"] for r in receiver.requests}) == 1  # one event, one id, four attempts


@pytest.mark.parametrize("retry_after", ["7200", "100000000000000", "9" * 400])
async def test_a_receivers_retry_after_defers_the_retry_by_an_hour_at_most(
    api: Api, settings: Settings, receiver: Receiver, retry_after: str
) -> None:
    # given: a receiver that asks for a retry in two hours, in 3 million years, or in a number that is no float
    world = await build_world(api)
    endpoint_id, _ = await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    receiver.script(Answer(status=429, headers={"Retry-After": retry_after}), 200)
    await api.create_api_key(world.owner.session, world.project_id, "asked to wait")
    clock = clock_at_now()
    # when
    result = await deliver_due(config(settings), clock=clock, rng=lambda: 0.0)
    # then: the attempt is recorded and the retry is due an hour later, the longest back-off
    assert result.attempted == 1 and result.delivered == 0
    [delivery] = await deliveries(api, world.owner, endpoint_id)
    assert delivery["attempts"] == 1 and delivery["status"] == "PENDING" and delivery["lastStatusCode"] == 429
    assert datetime.fromisoformat(delivery["nextAttemptAt"]) == clock.now + timedelta(hours=1)
    clock.advance(hours=1)
    assert (await deliver_due(config(settings), clock=clock)).delivered == 1


async def test_an_attempt_that_fails_inside_keyward_is_counted_backs_off_and_is_given_up(
    api: Api, settings: Settings
) -> None:
    # given: a destination that makes the sender fail in a way it does not answer for (a bug of ours: here the
    # resolver raises what no resolver should)
    async def broken_resolver(host: str, port: int) -> list[Any]:
        raise RuntimeError("a bug this destination meets")

    broken = DeliveryConfig.from_settings(settings, resolver=broken_resolver)
    world = await build_world(api)
    endpoint_id, _ = await create_endpoint(api, world.owner, "https://hooks.example.com/keyward", ["API_KEY_CREATED"])
    await api.create_api_key(world.owner.session, world.project_id, "met a bug")
    clock = clock_at_now()
    # when
    result = await deliver_due(broken, clock=clock, rng=lambda: LONGEST)
    # then: a failed attempt, counted, with a retry after the usual back-off, not a claim left to lapse
    assert (result.attempted, result.failed_attempts) == (1, 1)
    [delivery] = await deliveries(api, world.owner, endpoint_id)
    assert delivery["attempts"] == 1 and delivery["status"] == "PENDING" and "inside Keyward" in delivery["lastError"]
    assert datetime.fromisoformat(delivery["nextAttemptAt"]) == clock.now + retry_delay(1, lambda: LONGEST)
    # and like any failing delivery it is given up after the retry window
    clock.advance(seconds=RETRY_WINDOW.total_seconds() - 10)
    assert (await deliver_due(broken, clock=clock, rng=lambda: LONGEST)).gave_up == 1


def test_back_off_doubles_from_30_seconds_up_to_an_hour_with_jitter() -> None:
    assert [retry_delay(n, lambda: LONGEST).total_seconds() for n in range(1, 10)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert [retry_delay(n, lambda: 0.0).total_seconds() for n in (1, 2, 8)] == [15, 30, 1800]


async def test_a_delivery_is_given_up_24_hours_after_it_was_created(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    world = await build_world(api)
    endpoint_id, _ = await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    receiver.default = Answer(status=500)
    await api.create_api_key(world.owner.session, world.project_id, "never accepted")
    clock = clock_at_now()
    await deliver_due(config(settings), clock=clock)
    # when: the next retry would fall after the 24 hours
    clock.advance(seconds=RETRY_WINDOW.total_seconds() - 10)
    result = await deliver_due(config(settings), clock=clock, rng=lambda: LONGEST)
    # then
    assert result.gave_up == 1
    [delivery] = await deliveries(api, world.owner, endpoint_id)
    assert delivery["status"] == "FAILED" and delivery["nextAttemptAt"] is None and delivery["attempts"] == 2
    clock.advance(days=1)
    assert (await deliver_due(config(settings), clock=clock)).attempted == 0


async def test_deliveries_to_one_endpoint_go_out_in_the_order_they_were_created(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    # given: three events; the first is refused twice
    world = await build_world(api)
    await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    for name in ("first", "second", "third"):
        await api.create_api_key(world.owner.session, world.project_id, name)
    receiver.script(500, 500)
    clock = clock_at_now()
    # when: rounds at every due time
    for _ in range(6):
        await deliver_due(config(settings), clock=clock, rng=lambda: LONGEST)
        clock.advance(minutes=5)
    # then: later events waited for the first; the receiver saw them in creation order
    names = [r.json()["data"]["apiKey"]["name"] for r in receiver.wait_for(5)]
    assert names == ["first", "first", "first", "second", "third"]


async def test_an_endpoint_failing_for_days_is_disabled_and_the_audit_log_says_so(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    # given: every attempt fails
    world = await build_world(api)
    endpoint_id, _ = await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    receiver.default = Answer(status=502)
    await api.create_api_key(world.owner.session, world.project_id, "day 0")
    clock = clock_at_now()
    await deliver_due(config(settings), clock=clock)
    first_failure = (await endpoint_row(endpoint_id)).failing_since
    assert first_failure == clock.now
    # when: still failing two days later, then three days after the first failure
    for days in (2, 3):
        clock.to(first_failure + timedelta(days=days))
        await api.create_api_key(world.owner.session, world.project_id, f"day {days}")
        await deliver_due(config(settings), clock=clock)
        assert (await endpoint_row(endpoint_id)).enabled is (days < 3)
    # then
    endpoint = await endpoint_row(endpoint_id)
    assert endpoint.disabled_at == clock.now and endpoint.consecutive_failures >= 3
    [event] = await AuditEvent.filter(action="webhook_endpoint.disabled")
    assert event.actor_kind == "SYSTEM" and event.details["url"] == receiver.url
    # and while it is disabled, changes queue nothing for it
    queued = len(await deliveries(api, world.owner, endpoint_id))
    await api.create_api_key(world.owner.session, world.project_id, "while disabled")
    assert len(await deliveries(api, world.owner, endpoint_id)) == queued
    # when a person enables it again, the streak starts afresh and new events are delivered
    receiver.default = Answer(status=200)
    data = await api.ok(UPDATE, {"input": {"id": endpoint_id, "enabled": True}}, world.owner.session)
    assert data["updateWebhookEndpoint"]["webhookEndpoint"] == {
        "enabled": True,
        "disabledAt": None,
        "failingSince": None,
    }
    await api.create_api_key(world.owner.session, world.project_id, "enabled again")
    assert (await deliver_due(config(settings))).delivered == 1
    assert receiver.requests[-1].json()["data"]["apiKey"]["name"] == "enabled again"


async def test_one_success_ends_the_failing_streak(api: Api, settings: Settings, receiver: Receiver) -> None:
    world = await build_world(api)
    endpoint_id, _ = await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    receiver.script(500)
    await api.create_api_key(world.owner.session, world.project_id, "a")
    clock = clock_at_now()
    await deliver_due(config(settings), clock=clock)
    assert (await endpoint_row(endpoint_id)).failing_since is not None
    clock.advance(hours=1)
    await deliver_due(config(settings), clock=clock)
    endpoint = await endpoint_row(endpoint_id)
    assert endpoint.failing_since is None and endpoint.consecutive_failures == 0 and endpoint.enabled


async def test_a_rolled_secret_signs_beside_the_old_one_for_the_hours_asked(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    world = await build_world(api)
    endpoint_id, old = await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    data = await api.ok(ROLL, {"id": endpoint_id, "hours": 2}, world.owner.session)
    new = data["rollWebhookEndpointSecret"]["signingSecret"]
    assert new.startswith("kwh_") and new != old
    await api.create_api_key(world.owner.session, world.project_id, "during the overlap")
    clock = clock_at_now()
    await deliver_due(config(settings), clock=clock)
    [request] = receiver.wait_for(1)
    header = request.headers["keyward-signature"]
    assert header.count("v1=") == 2
    assert signing.verify(request.body, header, new, now=clock.now.timestamp())
    assert signing.verify(request.body, header, old, now=clock.now.timestamp())
    # after the overlap only the new secret signs
    clock.advance(hours=3)
    await api.create_api_key(world.owner.session, world.project_id, "after the overlap")
    await deliver_due(config(settings), clock=clock)
    request = receiver.wait_for(2)[1]
    assert request.headers["keyward-signature"].count("v1=") == 1
    assert not signing.verify(request.body, request.headers["keyward-signature"], old, now=clock.now.timestamp())
    # rolling with no overlap, and an overlap out of range
    data = await api.ok(ROLL, {"id": endpoint_id, "hours": 0}, world.owner.session)
    assert (await endpoint_row(endpoint_id)).previous_signing_secret is None
    refused = await api.gql(ROLL, {"id": endpoint_id, "hours": 169}, world.owner.session)
    assert refused["data"]["rollWebhookEndpointSecret"]["userErrors"] == [{"code": "OUT_OF_RANGE"}]


async def test_a_test_ping_and_a_redelivery_carry_their_event_ids(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    world = await build_world(api)
    endpoint_id, _ = await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    # when: a test
    ping = (await api.ok(SEND_TEST, {"id": endpoint_id}, world.owner.session))["sendTestWebhook"]["webhookDelivery"]
    assert ping["status"] == "PENDING"
    await deliver_due(config(settings))
    [request] = receiver.wait_for(1)
    assert request.json()["type"] == "ping" and request.json()["id"] == ping["eventId"]
    # when: a delivered event is redelivered
    await api.create_api_key(world.owner.session, world.project_id, "again")
    await deliver_due(config(settings))
    original = receiver.wait_for(2)[1].json()
    first = [d for d in await deliveries(api, world.owner, endpoint_id) if d["event"] == "API_KEY_CREATED"][0]
    again = (await api.ok(REDELIVER, {"id": first["id"]}, world.owner.session))["redeliverWebhook"]["webhookDelivery"]
    await deliver_due(config(settings))
    # then: the same event, the same id (a receiver drops it as a duplicate), a delivery of its own
    repeated = receiver.wait_for(3)[2].json()
    assert repeated == original and again["eventId"] == original["id"] and again["id"] != first["id"]


async def test_the_stale_sweep_delivers_its_report(api: Api, settings: Settings, receiver: Receiver) -> None:
    # given: a token idle for 120 days in a workspace that revokes after 100
    world = await build_world(api)
    await create_endpoint(api, world.owner, receiver.url, ["STALE_TOKEN_REPORT_READY", "MANAGEMENT_TOKEN_REVOKED"])
    token_id, _ = await api.create_token(world.owner, ["VIEW_PROJECTS"], "forgotten")
    await api.ok(
        "mutation { updateWorkspaceSettings(input: {autoRevokeStaleAfterDays: 100}) { userErrors { code } } }",
        token=world.owner.session,
    )
    # when
    result = await run_sweep(now=datetime.now(UTC) + timedelta(days=120))
    await deliver_due(config(settings))
    # then: the report with its entries, and one revocation per token the sweep revoked
    assert result.revoked >= 1
    bodies = [r.json() for r in receiver.wait_for(1 + result.revoked)]
    [report] = [b for b in bodies if b["type"] == "stale_token_report.ready"]
    data = report["data"]["staleTokenReport"]
    assert data["entryCount"] == result.stale and not data["entriesTruncated"]
    entry = next(e for e in data["entries"] if e["token"]["id"] == token_id)
    assert entry["reason"] == "NEVER_USED" and entry["autoRevoked"] is True and entry["idleDays"] >= 120
    revoked = [b["data"] for b in bodies if b["type"] == "management_token.revoked"]
    assert {r["managementToken"]["id"] for r in revoked} >= {token_id}
    assert {r["reason"] for r in revoked} == {"stale"}


async def test_finished_events_are_pruned_after_the_retention_and_pending_ones_kept(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    from app.models import WebhookDelivery, WebhookEvent
    from app.services.webhook_delivery import prune

    world = await build_world(api)
    await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    await api.create_api_key(world.owner.session, world.project_id, "delivered")
    await deliver_due(config(settings))
    receiver.default = Answer(status=500)
    await api.create_api_key(world.owner.session, world.project_id, "still pending")
    await deliver_due(config(settings))
    # when: 31 days later
    pruned = await prune(datetime.now(UTC) + timedelta(days=31), timedelta(days=30))
    # then: the delivered event went with its delivery; the pending one stays
    assert pruned == 1
    [kept] = await WebhookEvent.all()
    assert kept.data["apiKey"]["name"] == "still pending"
    assert await WebhookDelivery.all().count() == 1


async def test_a_signing_secret_is_never_a_bearer_credential(api: Api, settings: Settings, receiver: Receiver) -> None:
    world = await build_world(api)
    _, secret = await create_endpoint(api, world.owner, receiver.url, ["API_KEY_CREATED"])
    refused = await api.post("{ viewer { kind } }", token=secret)
    assert refused.status_code == 401
    assert "signs webhook deliveries" in refused.json()["errors"][0]["message"] and secret not in refused.text
    verify = await api.http.post("/v1/keys/verify", json={"key": secret})
    assert verify.json() == {"valid": False, "code": "NOT_AN_API_KEY", "message": verify.json()["message"]}


async def test_concurrent_creates_never_take_a_workspace_past_its_endpoint_limit(database_url: str) -> None:
    async with racing_api(database_url) as api:
        # given: a workspace two endpoints short of its limit, and 32 creates racing for the last two places
        owner = await api.sign_up()
        for n in range(MAX_ENDPOINTS_PER_WORKSPACE - 2):
            await create_endpoint(api, owner, f"https://hooks{n}.example.com/in", ["API_KEY_CREATED"])

        async def create(n: int) -> str:
            variables = {"input": {"url": f"https://race{n}.example.com/in", "events": ["API_KEY_CREATED"]}}
            body = (await api.post(CREATE_ENDPOINT, variables, owner.session)).json()
            payload = body["data"]["createWebhookEndpoint"]
            return payload["userErrors"][0]["code"] if payload["userErrors"] else "ok"

        # when
        outcomes = await race(database_url, [create(n) for n in range(32)])
        # then: exactly two got in, the others were told the workspace is full
        assert sorted(set(outcomes)) == ["TOO_MANY", "ok"], outcomes
        assert outcomes.count("ok") == 2
        assert await WebhookEndpoint.filter().count() == MAX_ENDPOINTS_PER_WORKSPACE


async def test_an_update_racing_a_secret_roll_never_brings_the_old_secret_back(database_url: str) -> None:
    async with racing_api(database_url) as api:
        # given: an endpoint whose secret is rolled (it leaked, say) while someone edits its description
        owner = await api.sign_up()
        endpoint_id, old_secret = await create_endpoint(api, owner, "https://hooks.example.com/in", ["API_KEY_CREATED"])

        async def roll() -> str:
            body = (await api.post(ROLL, {"id": endpoint_id, "hours": 0}, owner.session)).json()
            return str(body["data"]["rollWebhookEndpointSecret"]["signingSecret"])

        async def update() -> str:
            variables = {"input": {"id": endpoint_id, "description": "receiver of the CI events"}}
            body = (await api.post(UPDATE, variables, owner.session)).json()
            return str(body["data"]["updateWebhookEndpoint"]["userErrors"])

        # when: the roll reads first, the update reads before the roll commits
        new_secret, update_errors = await race(database_url, [update()], first=[roll()])
        # then: both changes stand; deliveries are signed with the secret the roll showed, never the old one
        assert update_errors == "[]"
        endpoint = await endpoint_row(endpoint_id)
        assert endpoint.description == "receiver of the CI events"
        assert new_secret != old_secret
        assert signing_secrets(endpoint, datetime.now(UTC)) == [new_secret]


async def test_deleting_an_endpoint_never_fails_a_change_that_sends_it_an_event(database_url: str) -> None:
    async with racing_api(database_url) as api:
        # given: an endpoint that hears of revocations, and a token
        owner = await api.sign_up()
        endpoint_id, _ = await create_endpoint(api, owner, "https://hooks.example.com/in", ["MANAGEMENT_TOKEN_REVOKED"])
        token_id, token_secret = await api.create_token(owner, ["VIEW_PROJECTS"])
        delete = "mutation($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) { deletedId userErrors { code } } }"
        # when: the revocation has found the endpoint to send its event to, and the endpoint is deleted before the
        # revocation writes the event (on PostgreSQL: writes to webhook_event wait until both are under way)
        revoked, deleted = await race(
            database_url,
            [api.gql(delete, {"id": endpoint_id}, owner.session)],
            first=[api.gql(REVOKE, {"id": token_id}, owner.session)],
            held_table="webhook_event",
        )
        # then: both happened; the revocation was not undone by an error about the endpoint
        assert revoked == {"data": {"revokeManagementToken": {"userErrors": []}}}, revoked
        assert deleted["data"]["deleteWebhookEndpoint"] == {"deletedId": endpoint_id, "userErrors": []}, deleted
        assert (await api.post("{ viewer { kind } }", token=token_secret)).status_code == 401
        assert await WebhookEndpoint.filter().count() == 0
