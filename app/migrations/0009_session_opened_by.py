from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0008_stale_report_api_keys")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Session",
            name="opened_by",
            field=fields.ForeignKeyField(
                "models.Session",
                source_field="opened_by_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name="opened",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddIndex(model_name="Session", index=Index(fields=["opened_by_id"])),
    ]
