"""Webhooks: the endpoints a workspace registered, the outbox of events, and one delivery per endpoint and event.

An event row is written in the same transaction as the change that caused it (the outbox), together
with one delivery row for each enabled endpoint subscribed to its type. Workers claim due deliveries
(`claimed_until`, so a dead worker's claim lapses and is taken over) and record each attempt.
"""

from tortoise import fields
from tortoise.models import Model

PENDING = "PENDING"
DELIVERED = "DELIVERED"
FAILED = "FAILED"


class WebhookEndpoint(Model):
    """A URL that receives signed events of the types in `events` (comma-separated wire names)."""

    id = fields.BigIntField(primary_key=True)
    workspace = fields.ForeignKeyField("models.Workspace", related_name="webhook_endpoints", on_delete=fields.CASCADE)
    url = fields.CharField(max_length=2048)
    description = fields.TextField(null=True)
    events = fields.CharField(max_length=500)
    enabled = fields.BooleanField(default=True)
    # Kept as issued: signing needs the value (only its holders can verify a signature).
    signing_secret = fields.CharField(max_length=64, unique=True)
    previous_signing_secret = fields.CharField(max_length=64, null=True)
    previous_secret_expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # The failing streak: first failed attempt since the last success, and how many since.
    failing_since = fields.DatetimeField(null=True)
    consecutive_failures = fields.IntField(default=0)
    disabled_at = fields.DatetimeField(null=True)
    disabled_reason = fields.CharField(max_length=300, null=True)
    secret_leaked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_endpoint"
        indexes = (("workspace_id", "id"),)


class WebhookEvent(Model):
    """One change, as receivers see it.

    `uid` is the `id` of the body, the same in every delivery of the event.
    """

    id = fields.BigIntField(primary_key=True)
    uid = fields.CharField(max_length=40, unique=True)
    workspace = fields.ForeignKeyField("models.Workspace", related_name="webhook_events", on_delete=fields.CASCADE)
    type = fields.CharField(max_length=40)
    data = fields.JSONField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "webhook_event"
        indexes = (("created_at",),)


class WebhookDelivery(Model):
    """An event on its way to one endpoint.

    `ordered` deliveries go out one at a time per endpoint, oldest first. A test or a redelivery asked
    for by a person is outside that order.
    """

    id = fields.BigIntField(primary_key=True)
    workspace = fields.ForeignKeyField("models.Workspace", related_name="webhook_deliveries", on_delete=fields.CASCADE)
    endpoint = fields.ForeignKeyField("models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE)
    event = fields.ForeignKeyField("models.WebhookEvent", related_name="deliveries", on_delete=fields.CASCADE)
    type = fields.CharField(max_length=40)
    event_uid = fields.CharField(max_length=40)  # the event's `id`, copied so lists need no join
    ordered = fields.BooleanField(default=True)
    state = fields.CharField(max_length=16, default=PENDING)
    created_at = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    claimed_until = fields.DatetimeField(null=True)
    claim_owner = fields.CharField(max_length=64, null=True)
    last_attempt_at = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    delivered_at = fields.DatetimeField(null=True)
    failed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (("endpoint_id", "state", "id"), ("state", "next_attempt_at"))
