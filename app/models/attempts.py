from tortoise import fields
from tortoise.models import Model


class AttemptCounter(Model):
    """Attempts in a fixed window for one bucket (log-ins per email and address, per address, ...).

    `bucket` is the SHA-256 of the bucket's scope and key, so an email someone tried leaves no
    readable trace. Times are milliseconds since the epoch: the counter is written by one
    upsert statement on both databases, and plain integers compare alike on both.
    """

    bucket = fields.CharField(max_length=64, primary_key=True)
    attempts = fields.IntField(default=0)
    window_started_ms = fields.BigIntField()
    window_ends_ms = fields.BigIntField(db_index=True)

    class Meta:
        table = "attempt_counter"
