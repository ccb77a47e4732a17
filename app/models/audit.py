from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    """One administrative action. The actor is copied, so the record outlives what it names."""

    id = fields.BigIntField(primary_key=True)
    workspace = fields.ForeignKeyField("models.Workspace", related_name="audit_events", on_delete=fields.CASCADE)
    occurred_at = fields.DatetimeField(auto_now_add=True)
    actor_kind = fields.CharField(max_length=32)
    actor_id = fields.CharField(max_length=64, null=True)
    actor_label = fields.CharField(max_length=300)
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=32)
    target_id = fields.CharField(max_length=64, null=True)
    ip_address = fields.CharField(max_length=64, null=True)
    details = fields.JSONField(null=True)

    class Meta:
        table = "audit_event"
        indexes = (("workspace_id", "id"),)
