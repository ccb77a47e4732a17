"""Webhook test helpers: endpoints through the API, an injectable clock, the outbox's rows."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.graphql.ids import pk_of
from app.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.support.api import Account, Api

CREATE_ENDPOINT = """mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    signingSecret webhookEndpoint { id url events enabled description } userErrors { field message code }
  }
}"""

DELIVERIES = """query($id: ID!) { node(id: $id) { ... on WebhookEndpoint {
  enabled disabledAt failingSince
  deliveries(first: 100) { totalCount edges { node {
    id event eventId status attempts lastStatusCode lastError deliveredAt nextAttemptAt createdAt } } }
} } }"""


@dataclass
class Clock:
    """The delivery code's notion of now, moved by the test (no sleeping)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def to(self, when: datetime) -> datetime:
        self.now = when
        return self.now


def clock_at_now() -> Clock:
    return Clock(datetime.now(UTC))


async def create_endpoint(api: Api, owner: Account, url: str, events: list[str], **extra: Any) -> tuple[str, str]:
    """(global id, signing secret)."""
    data = await api.ok(CREATE_ENDPOINT, {"input": {"url": url, "events": events, **extra}}, owner.session)
    payload = data["createWebhookEndpoint"]
    return payload["webhookEndpoint"]["id"], payload["signingSecret"]


async def deliveries(api: Api, owner: Account, endpoint_id: str) -> list[dict[str, Any]]:
    """Oldest first."""
    data = await api.ok(DELIVERIES, {"id": endpoint_id}, owner.session)
    return [edge["node"] for edge in reversed(data["node"]["deliveries"]["edges"])]


async def endpoint_row(endpoint_id: str) -> WebhookEndpoint:
    pk = pk_of(endpoint_id, "WebhookEndpoint")
    assert pk is not None
    return await WebhookEndpoint.get(id=pk)


async def outbox_counts() -> tuple[int, int]:
    return await WebhookEvent.all().count(), await WebhookDelivery.all().count()
