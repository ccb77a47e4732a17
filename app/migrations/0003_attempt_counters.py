"""Log-in throttling by fixed-window counters per bucket (email and address, address, email) instead of one
row of failures per email; the old counts are dropped (they only ever lived for a lock-out window)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0002_token_fillfactor")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AttemptCounter",
            fields=[
                ("bucket", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ("attempts", fields.IntField(default=0)),
                ("window_started_ms", fields.BigIntField()),
                ("window_ends_ms", fields.BigIntField(db_index=True)),
            ],
            options={
                "table": "attempt_counter",
                "app": "models",
                "pk_attr": "bucket",
                "table_description": "Attempts in a fixed window for one bucket (log-ins per email and address, per address, ...).",
            },
            bases=["Model"],
        ),
        ops.DeleteModel(name="LoginThrottle"),
    ]
