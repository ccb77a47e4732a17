"""WebhookEndpoint and WebhookDelivery: where events go, and how each one fared."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.enums import WebhookDeliveryStatus, WebhookEventEnum
from app.graphql.ids import to_global_id
from app.graphql.types.common import After, Connection, First, Node, node_id, to_connection
from app.services import events as event_service
from app.services import webhooks as webhook_service
from app.services.records import WebhookDeliveryRecord, WebhookEndpointRecord


def event_enum(type_value: str) -> WebhookEventEnum:
    return WebhookEventEnum[event_service.EventType(type_value).name]


@strawberry.type(description="One event on its way to one endpoint, with the outcome of its attempts.")
class WebhookDelivery(Node):
    id: strawberry.ID = node_id()
    event: WebhookEventEnum = strawberry.field(description="The kind of event delivered.")
    event_id: str = strawberry.field(
        description="The body's `id` (evt_…): the same in every delivery of the event, so receivers drop duplicates."
    )
    status: WebhookDeliveryStatus = strawberry.field(description="PENDING, DELIVERED or FAILED.")
    created_at: datetime = strawberry.field(description="When the delivery was queued (with the change).")
    attempts: int = strawberry.field(description="Attempts so far.")
    last_status_code: int | None = strawberry.field(
        description="The HTTP status of the last answer; null when there was none (refused, timeout, no connection)."
    )
    last_error: str | None = strawberry.field(description="Why the last attempt failed, in words; null after success.")
    delivered_at: datetime | None = strawberry.field(description="When the endpoint answered 2xx.")
    next_attempt_at: datetime | None = strawberry.field(description="When the next attempt is due; null when done.")

    @classmethod
    def from_model(cls, row: WebhookDeliveryRecord) -> "WebhookDelivery":
        return cls(
            id=to_global_id("WebhookDelivery", row.id),
            event=event_enum(row.type),
            event_id=row.event_uid,
            status=WebhookDeliveryStatus(row.state),
            created_at=row.created_at,
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
            next_attempt_at=row.next_attempt_at,
        )


@strawberry.type(
    description="A URL that receives signed events. The signing secret is shown once, when created or rolled."
)
class WebhookEndpoint(Node):
    id: strawberry.ID = node_id()
    url: str = strawberry.field(description="Where events are POSTed (https unless the server allows http).")
    events: list[WebhookEventEnum] = strawberry.field(description="The events this endpoint receives.")
    description: str | None = strawberry.field(description="A note for people: what listens there.")
    enabled: bool = strawberry.field(description="False: nothing is sent (set by a person, or after days of failures).")
    created_at: datetime = strawberry.field(description="When the endpoint was added.")
    disabled_at: datetime | None = strawberry.field(
        description="When Keyward disabled it because every attempt failed for days; null otherwise."
    )
    failing_since: datetime | None = strawberry.field(
        description="First failed attempt since the last success; null while deliveries succeed."
    )
    secret_leaked_at: datetime | None = strawberry.field(
        description="When its signing secret was reported leaked (roll it); null otherwise."
    )
    pk: strawberry.Private[int]

    @strawberry.field(description="Deliveries to this endpoint, newest first.")
    async def deliveries(
        self, info: Info[Context, Any], first: First = None, after: After = None
    ) -> Connection[WebhookDelivery]:
        page = await webhook_service.list_deliveries(info.context.principal, self.pk, first, after)
        return to_connection(page, WebhookDelivery.from_model)

    @classmethod
    def from_model(cls, row: WebhookEndpointRecord) -> "WebhookEndpoint":
        return cls(
            id=to_global_id("WebhookEndpoint", row.id),
            url=row.url,
            events=[WebhookEventEnum[t.name] for t in event_service.decode_events(row.events)],
            description=row.description,
            enabled=row.enabled,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            failing_since=row.failing_since,
            secret_leaked_at=row.secret_leaked_at,
            pk=row.id,
        )
