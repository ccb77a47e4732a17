from tortoise import fields
from tortoise.models import Model

DEFAULT_STALE_AFTER_DAYS = 90


class Workspace(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=100)
    stale_after_days = fields.IntField(default=DEFAULT_STALE_AFTER_DAYS)
    auto_revoke_stale_after_days = fields.IntField(null=True)
    # When set, new management tokens and API keys must expire within this many days.
    max_token_lifetime_days = fields.IntField(null=True)
    # A credential reported leaked (POST /v1/leaks) is revoked when set, else only flagged.
    revoke_leaked_credentials = fields.BooleanField(default=True, db_default=True)  # raw INSERTs get it too
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "workspace"
