from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0007_expiry_warnings")]

    initial = False

    operations = [
        ops.CreateModel(
            name="StaleTokenReportApiKey",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "report",
                    fields.ForeignKeyField(
                        "models.StaleTokenReport",
                        source_field="report_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="expiring_api_keys",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "api_key",
                    fields.ForeignKeyField(
                        "models.ApiKey",
                        source_field="api_key_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="expiry_report_entries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "stale_token_report_api_key",
                "app": "models",
                "unique_together": (("report", "api_key"),),
                "indexes": [Index(fields=["api_key_id"])],
                "pk_attr": "id",
                "table_description": "An API key a report lists because it expires within the sweep's warning period (7 days).",
            },
            bases=["Model"],
        ),
    ]
