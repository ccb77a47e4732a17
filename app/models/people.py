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
    # When the person last opened a session in this workspace (sign-up, log-in, switch, invitation):
    # `logIn` opens the most recent one. Written when a session opens, never per request.
    last_seen_at = fields.DatetimeField(null=True)

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
    # The session that opened this one without the password (switchWorkspace, createWorkspace, acceptInvitation
    # with the session as proof): this one ends when that one does.
    opened_by = fields.ForeignKeyField(
        "models.Session", related_name="opened", null=True, on_delete=fields.SET_NULL, db_constraint=True
    )

    class Meta:
        table = "session"
        indexes = (("opened_by_id",),)


class Invitation(Model):
    """An invitation to join a workspace with a role.

    The kwi_ token is shown (or mailed) once and only its SHA-256 is stored. Single-use: accepting,
    revoking or expiring ends it.
    """

    id = fields.BigIntField(primary_key=True)
    workspace = fields.ForeignKeyField("models.Workspace", related_name="invitations", on_delete=fields.CASCADE)
    email = fields.CharField(max_length=254)  # stored lower-cased, as User.email
    role = fields.CharEnumField(WorkspaceRole, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    invited_by_kind = fields.CharField(max_length=32)
    invited_by_id = fields.CharField(max_length=64, null=True)
    invited_by_label = fields.CharField(max_length=300)

    class Meta:
        table = "invitation"
        indexes = (("workspace_id", "email"),)
