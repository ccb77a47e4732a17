from tortoise import fields
from tortoise.models import Model

from app.security.permissions import WorkspaceRole


class User(Model):
    id = fields.BigIntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)  # stored lower-cased
    password_hash = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "person"


class Membership(Model):
    id = fields.BigIntField(primary_key=True)
    workspace = fields.ForeignKeyField("models.Workspace", related_name="memberships", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("models.User", related_name="memberships", on_delete=fields.CASCADE)
    role = fields.CharEnumField(WorkspaceRole, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "membership"
        unique_together = (("workspace", "user"),)


class Session(Model):
    """The `kws_` token of a signed-in person. Only its SHA-256 is stored."""

    id = fields.BigIntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    membership = fields.ForeignKeyField("models.Membership", related_name="sessions", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    ip_address = fields.CharField(max_length=64, null=True)
    leaked_at = fields.DatetimeField(null=True)  # reported leaked while the workspace only flags leaks

    class Meta:
        table = "session"
