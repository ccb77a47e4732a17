from tortoise import fields
from tortoise.models import Model


class ApiKey(Model):
    """A data-plane `kwk_` key of one project."""

    id = fields.BigIntField(primary_key=True)
    workspace = fields.ForeignKeyField("models.Workspace", related_name="api_keys", on_delete=fields.CASCADE)
    project = fields.ForeignKeyField("models.Project", related_name="api_keys", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    key_prefix = fields.CharField(max_length=16)
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    last_used_ip = fields.CharField(max_length=64, null=True)
    leaked_at = fields.DatetimeField(null=True)  # reported leaked while the workspace only flags leaks
    expires_at = fields.DatetimeField(null=True)  # refused from this time on; NULL: never expires
    # JSON list of normalised addresses and CIDR ranges (app.security.ip_allowlist); NULL: any address.
    allowed_ips = fields.TextField(null=True)
    meta = fields.TextField(null=True)  # JSON object (at most 4 KB) returned by verify with a valid key
    # When the sweep announced (CREDENTIAL_EXPIRING) that the key expires within a week: once per key.
    expiry_warned_at = fields.DatetimeField(null=True)
    created_by_kind = fields.CharField(max_length=32)
    created_by_id = fields.CharField(max_length=64, null=True)
    created_by_label = fields.CharField(max_length=300)

    class Meta:
        table = "api_key"
        indexes = (("workspace_id", "id"), ("project_id", "id"))


class ManagementToken(Model):
    """A workspace-scoped `kwm_` token with a subset of the five permissions.

    `active_name` holds the name while the token is active and not yet replaced, NULL
    otherwise: the unique index on (workspace, active_name) keeps live names distinct while
    a rotation's replacement may take over the name of the token it replaces.
    """

    id = fields.BigIntField(primary_key=True)
    workspace = fields.ForeignKeyField("models.Workspace", related_name="management_tokens", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    active_name = fields.CharField(max_length=100, null=True)
    key_prefix = fields.CharField(max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    permissions = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    last_used_ip = fields.CharField(max_length=64, null=True)
    revoked_at = fields.DatetimeField(null=True)
    stale_since = fields.DatetimeField(null=True)
    leaked_at = fields.DatetimeField(null=True)  # first reported leaked (POST /v1/leaks)
    expires_at = fields.DatetimeField(null=True)  # refused from this time on; NULL: never expires
    # JSON list of normalised addresses and CIDR ranges (app.security.ip_allowlist); NULL: any address.
    allowed_ips = fields.TextField(null=True)
    # JSON list of the project ids the token is limited to; NULL: every project of the workspace.
    # Kept on the row (not a join table) so the one lookup of the request path reads the scope too;
    # deleting a project removes its id here in the same transaction.
    project_ids = fields.TextField(null=True)
    # When the sweep announced (CREDENTIAL_EXPIRING) that the token expires within a week: once per token.
    expiry_warned_at = fields.DatetimeField(null=True)
    replaces = fields.OneToOneField(
        "models.ManagementToken", related_name="replaced_by", null=True, on_delete=fields.SET_NULL
    )
    created_by_kind = fields.CharField(max_length=32)
    created_by_id = fields.CharField(max_length=64, null=True)
    created_by_label = fields.CharField(max_length=300)

    class Meta:
        table = "management_token"
        indexes = (("workspace_id", "id"),)
        unique_together = (("workspace", "active_name"),)
