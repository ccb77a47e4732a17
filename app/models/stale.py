from tortoise import fields
from tortoise.models import Model


class StaleTokenReport(Model):
    id = fields.BigIntField(primary_key=True)
    workspace = fields.ForeignKeyField("models.Workspace", related_name="stale_reports", on_delete=fields.CASCADE)
    generated_at = fields.DatetimeField()
    stale_after_days = fields.IntField()
    sweep_id = fields.CharField(max_length=64)

    class Meta:
        table = "stale_token_report"
        unique_together = (("workspace", "sweep_id"),)


class StaleTokenReportEntry(Model):
    id = fields.BigIntField(primary_key=True)
    report = fields.ForeignKeyField("models.StaleTokenReport", related_name="entries", on_delete=fields.CASCADE)
    token = fields.ForeignKeyField("models.ManagementToken", related_name="stale_entries", on_delete=fields.CASCADE)
    reason = fields.CharField(max_length=16)
    last_used_at = fields.DatetimeField(null=True)
    idle_days = fields.IntField()
    auto_revoked = fields.BooleanField(default=False)

    class Meta:
        table = "stale_token_report_entry"
        indexes = (("report_id", "id"),)
