"""Webhook endpoints: create (the signing secret shown once), update, delete, roll the secret, test, redeliver."""

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_role
from app.graphql.enums import WebhookEventEnum
from app.graphql.ids import require_pk, to_global_id
from app.graphql.mutations.projects import DeleteInput, DeletePayload
from app.graphql.payloads import run_mutation
from app.graphql.types.common import UserError, user_errors
from app.graphql.types.webhooks import WebhookDelivery, WebhookEndpoint
from app.security.permissions import WorkspaceRole
from app.services import webhooks
from app.services.events import EventType
from app.services.records import WebhookDeliveryRecord


def _types(values: list[WebhookEventEnum]) -> list[EventType]:
    return [EventType[v.name] for v in values]


@strawberry.input(description="A new endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="https:// URL that receives the events (at most 2048 characters).")
    events: list[WebhookEventEnum] = strawberry.field(description="The events to send there (at least one).")
    description: str | None = strawberry.field(default=None, description="A note for people.")
    enabled: bool = strawberry.field(default=True, description="False: saved, but nothing is sent yet.")


@strawberry.input(description="Changes to an endpoint; fields left out stay as they are.")
class UpdateWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The WebhookEndpoint.")
    url: str | None = strawberry.field(default=strawberry.UNSET, description="A new URL.")
    events: list[WebhookEventEnum] | None = strawberry.field(
        default=strawberry.UNSET, description="The new list of events (replaces the old one)."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="null clears the description; leave it out to keep it."
    )
    enabled: bool | None = strawberry.field(
        default=strawberry.UNSET, description="false pauses deliveries; true resumes them (and clears a disabling)."
    )


@strawberry.input(description="Roll an endpoint's signing secret.")
class RollWebhookEndpointSecretInput:
    id: strawberry.ID = strawberry.field(description="The WebhookEndpoint.")
    previous_secret_valid_hours: int = strawberry.field(
        default=0,
        description="Hours (0 to 168) during which deliveries are signed with the old secret too; 0: it stops at once.",
    )


@strawberry.type(description="The endpoint, and its signing secret: returned here once and never again.")
class CreateWebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(default=None, description="The endpoint.")
    signing_secret: str | None = strawberry.field(
        default=None, description="The kwh_ secret that signs deliveries: returned here once and never again."
    )
    user_errors: list[UserError] = user_errors()


@strawberry.type(description="The endpoint after the change.")
class WebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(default=None, description="The endpoint.")
    user_errors: list[UserError] = user_errors()


@strawberry.type(description="The delivery just queued.")
class WebhookDeliveryPayload:
    webhook_delivery: WebhookDelivery | None = strawberry.field(
        default=None, description="The new delivery (PENDING): the worker sends it within seconds."
    )
    user_errors: list[UserError] = user_errors()


def _endpoint_pk(value: strawberry.ID) -> int:
    return require_pk(value, "WebhookEndpoint", "Webhook endpoint")


def _delivery(row: WebhookDeliveryRecord) -> dict[str, Any]:
    return {"webhook_delivery": WebhookDelivery.from_model(row)}


def _with_secret(result: webhooks.EndpointWithSecret) -> dict[str, Any]:
    return {"webhook_endpoint": WebhookEndpoint.from_model(result.endpoint), "signing_secret": result.signing_secret}


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Adds an endpoint; its signing secret is in the payload, once.",
    )
    async def create_webhook_endpoint(
        self,
        info: Info[Context, Any],
        input: Annotated[
            CreateWebhookEndpointInput, strawberry.argument(description="The URL and the events to send there.")
        ],
    ) -> CreateWebhookEndpointPayload:
        return await run_mutation(
            CreateWebhookEndpointPayload,
            lambda: webhooks.create_endpoint(
                info.context.principal, input.url, _types(input.events), input.description, input.enabled
            ),
            _with_secret,
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN), description="Changes an endpoint's URL, events, note or state."
    )
    async def update_webhook_endpoint(
        self,
        info: Info[Context, Any],
        input: Annotated[UpdateWebhookEndpointInput, strawberry.argument(description="The endpoint and what changes.")],
    ) -> WebhookEndpointPayload:
        set_description = input.description is not strawberry.UNSET
        return await run_mutation(
            WebhookEndpointPayload,
            lambda: webhooks.update_endpoint(
                info.context.principal,
                _endpoint_pk(input.id),
                url=input.url if input.url not in (strawberry.UNSET, None) else None,
                types=_types(input.events) if input.events not in (strawberry.UNSET, None) else None,
                description=input.description if set_description else None,
                set_description=set_description,
                enabled=input.enabled if input.enabled not in (strawberry.UNSET, None) else None,
            ),
            lambda row: {"webhook_endpoint": WebhookEndpoint.from_model(row)},
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Removes an endpoint and its delivery history; nothing more is sent to it.",
    )
    async def delete_webhook_endpoint(
        self,
        info: Info[Context, Any],
        input: Annotated[DeleteInput, strawberry.argument(description="The WebhookEndpoint to remove.")],
    ) -> DeletePayload:
        return await run_mutation(
            DeletePayload,
            lambda: webhooks.delete_endpoint(info.context.principal, _endpoint_pk(input.id)),
            lambda pk: {"deleted_id": to_global_id("WebhookEndpoint", pk)},
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="A new signing secret (in the payload, once); the old one may sign alongside for a while.",
    )
    async def roll_webhook_endpoint_secret(
        self,
        info: Info[Context, Any],
        input: Annotated[
            RollWebhookEndpointSecretInput,
            strawberry.argument(description="The endpoint, and how long the old secret still signs."),
        ],
    ) -> CreateWebhookEndpointPayload:
        return await run_mutation(
            CreateWebhookEndpointPayload,
            lambda: webhooks.roll_secret(
                info.context.principal, _endpoint_pk(input.id), input.previous_secret_valid_hours
            ),
            _with_secret,
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Sends a PING to the endpoint (the input's id is a WebhookEndpoint).",
    )
    async def send_test_webhook(
        self,
        info: Info[Context, Any],
        input: Annotated[DeleteInput, strawberry.argument(description="The WebhookEndpoint to send a PING to.")],
    ) -> WebhookDeliveryPayload:
        return await run_mutation(
            WebhookDeliveryPayload,
            lambda: webhooks.send_test(info.context.principal, _endpoint_pk(input.id)),
            _delivery,
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Sends a delivery's event again, with the same event id (the input's id is a WebhookDelivery).",
    )
    async def redeliver_webhook(
        self,
        info: Info[Context, Any],
        input: Annotated[DeleteInput, strawberry.argument(description="The WebhookDelivery to send again.")],
    ) -> WebhookDeliveryPayload:
        return await run_mutation(
            WebhookDeliveryPayload,
            lambda: webhooks.redeliver(
                info.context.principal, require_pk(input.id, "WebhookDelivery", "Webhook delivery")
            ),
            _delivery,
        )
