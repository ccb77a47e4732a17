"""Webhook endpoints of a workspace: create (signing secret shown once), change, roll the secret, delete,
list deliveries, send a test, redeliver. Every lookup is scoped to the caller's workspace."""

from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from app.clock import utcnow
from app.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, Workspace
from app.models.webhooks import PENDING
from app.security.principal import Principal
from app.services import audit, events
from app.services.errors import NotFound, UserInputError
from app.services.events import EventType
from app.services.pagination import Page, paginate
from app.services.row_locks import Lock, locked
from app.services.validation import clean_description
from app.settings import get_settings
from app.webhooks import signing
from app.webhooks.destinations import InvalidUrl, check_url, literal_address, parse_allow_list, refusal

MAX_ENDPOINTS_PER_WORKSPACE = 20
MAX_PREVIOUS_SECRET_HOURS = 168  # a week: time enough to deploy the new secret everywhere


@dataclass
class EndpointWithSecret:
    endpoint: WebhookEndpoint
    signing_secret: str


def _clean_url(url: str) -> str:
    settings = get_settings()
    text = url.strip()
    try:
        destination = check_url(text, allow_http=settings.webhook_allow_http)
    except InvalidUrl as exc:
        raise UserInputError(str(exc), "INVALID_URL", ("url",)) from None
    # A literal address can be judged now; a name is judged at each delivery, after resolution.
    address = literal_address(destination.host)
    allow = parse_allow_list(settings.webhook_allowed_hosts)
    if address is not None and refusal(address) and not allow.allows_address(address):
        raise UserInputError(
            f"Deliveries to {refusal(address)} are not allowed (KEYWARD_WEBHOOK_ALLOWED_HOSTS lists exceptions).",
            "DESTINATION_NOT_ALLOWED",
            ("url",),
        )
    return text


def _clean_events(types: list[EventType]) -> str:
    if not types:
        raise UserInputError("Choose at least one event.", "NO_EVENTS", ("events",))
    if EventType.PING in types:
        raise UserInputError(
            "PING is sent only by sendTestWebhook; endpoints do not subscribe to it.", "INVALID_EVENT", ("events",)
        )
    return events.encode_events(types)


async def get_endpoint(principal: Principal, endpoint_id: int, *, lock: Lock | None = None) -> WebhookEndpoint:
    """The caller's endpoint; with `lock`, read inside the caller's transaction to act on it (row_locks)."""
    mine = WebhookEndpoint.filter(id=endpoint_id, workspace_id=principal.workspace_id)
    endpoint = await locked(mine, lock).first()
    if endpoint is None:
        raise NotFound("Webhook endpoint")
    return endpoint


async def list_endpoints(principal: Principal, first: int | None, after: str | None) -> Page[WebhookEndpoint]:
    return await paginate(WebhookEndpoint.filter(workspace_id=principal.workspace_id), first, after, newest_first=True)


async def list_deliveries(
    principal: Principal, endpoint_id: int, first: int | None, after: str | None
) -> Page[WebhookDelivery]:
    query = WebhookDelivery.filter(workspace_id=principal.workspace_id, endpoint_id=endpoint_id)
    return await paginate(query, first, after, newest_first=True)


def _details(endpoint: WebhookEndpoint) -> dict[str, object]:
    return {"url": endpoint.url, "events": endpoint.events.split(","), "enabled": endpoint.enabled}


async def create_endpoint(
    principal: Principal, url: str, types: list[EventType], description: str | None, enabled: bool = True
) -> EndpointWithSecret:
    clean_url = _clean_url(url)
    stored_events = _clean_events(types)
    text = clean_description(description)
    secret = signing.generate_secret()
    async with in_transaction():
        # The workspace row locked first: concurrent creates count one after another, so the limit holds.
        await locked(Workspace.filter(id=principal.workspace_id), Lock.CHANGE).get()
        if await WebhookEndpoint.filter(workspace_id=principal.workspace_id).count() >= MAX_ENDPOINTS_PER_WORKSPACE:
            raise UserInputError(
                f"A workspace can have at most {MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints.", "TOO_MANY", None
            )
        endpoint = await WebhookEndpoint.create(
            workspace_id=principal.workspace_id,
            url=clean_url,
            description=text,
            events=stored_events,
            enabled=enabled,
            signing_secret=secret,
        )
        await audit.record(
            principal, "webhook_endpoint.created", "WebhookEndpoint", endpoint.id, details=_details(endpoint)
        )
    return EndpointWithSecret(endpoint, secret)


async def update_endpoint(
    principal: Principal,
    endpoint_id: int,
    *,
    url: str | None = None,
    types: list[EventType] | None = None,
    description: str | None = None,
    set_description: bool = False,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    if url is None and types is None and not set_description and enabled is None:
        raise UserInputError("Nothing to update.", "NOTHING_TO_UPDATE", None)
    clean_url = _clean_url(url) if url is not None else None
    stored_events = _clean_events(types) if types is not None else None
    text = clean_description(description) if set_description else None
    async with in_transaction():
        # Locked, and only the changed columns written: a concurrent secret roll (or the delivery worker's
        # failure counts) is never overwritten with what this read before it.
        endpoint = await get_endpoint(principal, endpoint_id, lock=Lock.CHANGE)
        changed: list[str] = []  # the columns a person asked to change, as the audit log names them
        streak: list[str] = []
        if clean_url is not None and clean_url != endpoint.url:
            endpoint.url = clean_url
            changed.append("url")
        if stored_events is not None and stored_events != endpoint.events:
            endpoint.events = stored_events
            changed.append("events")
        if set_description and text != endpoint.description:
            endpoint.description = text  # type: ignore[assignment]  # a nullable column; Tortoise types it str
            changed.append("description")
        if enabled is not None and enabled != endpoint.enabled:
            endpoint.enabled = enabled
            changed.append("enabled")
            if enabled:  # a fresh start: the failing streak that disabled it is over
                endpoint.disabled_at = endpoint.disabled_reason = endpoint.failing_since = None
                endpoint.consecutive_failures = 0
                streak = ["disabled_at", "disabled_reason", "failing_since", "consecutive_failures"]
        if changed:
            await endpoint.save(update_fields=[*changed, *streak])
        await audit.record(
            principal,
            "webhook_endpoint.updated",
            "WebhookEndpoint",
            endpoint.id,
            details={**_details(endpoint), "changed": changed},
        )
    return endpoint


async def delete_endpoint(principal: Principal, endpoint_id: int) -> int:
    async with in_transaction():
        endpoint = await get_endpoint(principal, endpoint_id)
        deleted = await WebhookEndpoint.filter(id=endpoint.id).delete()
        if not deleted:
            raise NotFound("Webhook endpoint")
        await audit.record(
            principal, "webhook_endpoint.deleted", "WebhookEndpoint", endpoint.id, details=_details(endpoint)
        )
    return endpoint.id


async def roll_secret(principal: Principal, endpoint_id: int, previous_valid_hours: int) -> EndpointWithSecret:
    """A new signing secret; the old one also signs for `previous_valid_hours` (0: it stops at once)."""
    if not 0 <= previous_valid_hours <= MAX_PREVIOUS_SECRET_HOURS:
        raise UserInputError(
            f"The old secret can stay valid for 0 to {MAX_PREVIOUS_SECRET_HOURS} hours.",
            "OUT_OF_RANGE",
            ("previousSecretValidHours",),
        )
    secret = signing.generate_secret()
    async with in_transaction():
        endpoint = await WebhookEndpoint.select_for_update().get_or_none(
            id=endpoint_id or 0, workspace_id=principal.workspace_id
        )
        if endpoint is None:
            raise NotFound("Webhook endpoint")
        if previous_valid_hours:
            endpoint.previous_signing_secret = endpoint.signing_secret
            endpoint.previous_secret_expires_at = utcnow() + timedelta(hours=previous_valid_hours)
        else:
            endpoint.previous_signing_secret = endpoint.previous_secret_expires_at = None
        endpoint.signing_secret = secret
        endpoint.secret_leaked_at = None
        await endpoint.save()
        await audit.record(
            principal,
            "webhook_endpoint.secret_rolled",
            "WebhookEndpoint",
            endpoint.id,
            details={"url": endpoint.url, "previousSecretValidHours": previous_valid_hours},
        )
    return EndpointWithSecret(endpoint, secret)


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise UserInputError("This endpoint is disabled: enable it first.", "ENDPOINT_DISABLED", ("id",))


async def send_test(principal: Principal, endpoint_id: int) -> WebhookDelivery:
    """A PING to this endpoint alone, outside the order of its other deliveries."""
    async with in_transaction():
        # Locked: a concurrent delete waits, or has happened (NOT_FOUND); never a delivery to a deleted endpoint.
        endpoint = await get_endpoint(principal, endpoint_id, lock=Lock.CHANGE)
        _require_enabled(endpoint)
        data = {"webhookEndpointId": events.event_data.global_id("WebhookEndpoint", endpoint.id)}
        event = await events.emit(endpoint.workspace_id, EventType.PING, data, endpoint_ids=[endpoint.id])  # type: ignore[attr-defined]
        assert event is not None
        delivery = await WebhookDelivery.get(event_id=event.id)
        await audit.record(
            principal, "webhook_endpoint.test_sent", "WebhookEndpoint", endpoint.id, details={"url": endpoint.url}
        )
    return delivery


async def redeliver(principal: Principal, delivery_id: int) -> WebhookDelivery:
    """The same event (same `id`) to the same endpoint once more, as a new delivery outside the order."""
    async with in_transaction():
        original = await WebhookDelivery.get_or_none(id=delivery_id, workspace_id=principal.workspace_id)
        if original is None:
            raise NotFound("Webhook delivery")
        endpoint = await get_endpoint(principal, original.endpoint_id, lock=Lock.CHANGE)  # type: ignore[attr-defined]
        _require_enabled(endpoint)
        event = await WebhookEvent.get(id=original.event_id)  # type: ignore[attr-defined]
        now = utcnow()
        delivery = await WebhookDelivery.create(
            workspace_id=principal.workspace_id,
            endpoint_id=endpoint.id,
            event_id=event.id,
            type=event.type,
            event_uid=event.uid,
            ordered=False,
            state=PENDING,
            created_at=now,
            next_attempt_at=now,
        )
        await audit.record(
            principal,
            "webhook_delivery.redelivered",
            "WebhookDelivery",
            delivery.id,
            details={"of": f"WebhookDelivery:{original.id}", "eventId": event.uid, "url": endpoint.url},
        )
    return delivery
