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


class StaleTokenReportApiKey(Model):
    """An API key a report lists because it expires within the sweep's warning period (7 days).

    A key has no stale rule and is never revoked by the sweep: it is listed only so the report warns
    before it stops working. A row of its own, beside the token entries, because an entry points at a
    management token. Deleting the key (or its project) deletes the row.
    """

    id = fields.BigIntField(primary_key=True)
    report = fields.ForeignKeyField(
        "models.StaleTokenReport", related_name="expiring_api_keys", on_delete=fields.CASCADE
    )
    api_key = fields.ForeignKeyField("models.ApiKey", related_name="expiry_report_entries", on_delete=fields.CASCADE)
    expires_at = fields.DatetimeField()  # as judged by the sweep
    last_used_at = fields.DatetimeField(null=True)  # as judged by the sweep

    class Meta:
        table = "stale_token_report_api_key"
        unique_together = (("report", "api_key"),)
        indexes = (("api_key_id",),)  # deleting a key finds its rows without reading them all
