from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.security.permissions import WorkspaceRole


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="LoginThrottle",
            fields=[
                ("email_hash", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ("failures", fields.IntField(default=0)),
                ("last_failure_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "login_throttle",
                "app": "models",
                "pk_attr": "email_hash",
                "table_description": "Failed log-ins per email (hashed, so unknown emails leave no readable trace).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("email", fields.CharField(unique=True, max_length=254)),
                ("password_hash", fields.CharField(max_length=255)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "person", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Workspace",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(max_length=100)),
                ("stale_after_days", fields.IntField(default=90)),
                ("auto_revoke_stale_after_days", fields.IntField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "workspace", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "workspace",
                    fields.ForeignKeyField(
                        "models.Workspace",
                        source_field="workspace_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="audit_events",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("occurred_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("actor_kind", fields.CharField(max_length=32)),
                ("actor_id", fields.CharField(null=True, max_length=64)),
                ("actor_label", fields.CharField(max_length=300)),
                ("action", fields.CharField(max_length=64)),
                ("target_type", fields.CharField(max_length=32)),
                ("target_id", fields.CharField(null=True, max_length=64)),
                ("ip_address", fields.CharField(null=True, max_length=64)),
                ("details", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={
                "table": "audit_event",
                "app": "models",
                "indexes": [Index(fields=["workspace_id", "id"])],
                "pk_attr": "id",
                "table_description": "One administrative action. The actor is copied, so the record outlives what it names.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ManagementToken",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "workspace",
                    fields.ForeignKeyField(
                        "models.Workspace",
                        source_field="workspace_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="management_tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                ("active_name", fields.CharField(null=True, max_length=100)),
                ("key_prefix", fields.CharField(max_length=16)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("permissions", fields.CharField(max_length=200)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("last_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_used_ip", fields.CharField(null=True, max_length=64)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("stale_since", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "replaces",
                    fields.OneToOneField(
                        "models.ManagementToken",
                        source_field="replaces_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="replaced_by",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_by_kind", fields.CharField(max_length=32)),
                ("created_by_id", fields.CharField(null=True, max_length=64)),
                ("created_by_label", fields.CharField(max_length=300)),
            ],
            options={
                "table": "management_token",
                "app": "models",
                "unique_together": (("workspace", "active_name"),),
                "indexes": [Index(fields=["workspace_id", "id"])],
                "pk_attr": "id",
                "table_description": "A workspace-scoped `kwm_` token with a subset of the five permissions.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Membership",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "workspace",
                    fields.ForeignKeyField(
                        "models.Workspace",
                        source_field="workspace_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "role",
                    fields.CharEnumField(
                        description="OWNER: OWNER\nADMIN: ADMIN\nMEMBER: MEMBER", enum_type=WorkspaceRole, max_length=16
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "membership",
                "app": "models",
                "unique_together": (("workspace", "user"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Project",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "workspace",
                    fields.ForeignKeyField(
                        "models.Workspace",
                        source_field="workspace_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="projects",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                ("description", fields.TextField(null=True, unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "project",
                "app": "models",
                "indexes": [Index(fields=["workspace_id", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ApiKey",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "workspace",
                    fields.ForeignKeyField(
                        "models.Workspace",
                        source_field="workspace_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="api_keys",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "project",
                    fields.ForeignKeyField(
                        "models.Project",
                        source_field="project_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="api_keys",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                ("key_prefix", fields.CharField(max_length=16)),
                ("key_hash", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("last_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_used_ip", fields.CharField(null=True, max_length=64)),
                ("created_by_kind", fields.CharField(max_length=32)),
                ("created_by_id", fields.CharField(null=True, max_length=64)),
                ("created_by_label", fields.CharField(max_length=300)),
            ],
            options={
                "table": "api_key",
                "app": "models",
                "indexes": [Index(fields=["workspace_id", "id"]), Index(fields=["project_id", "id"])],
                "pk_attr": "id",
                "table_description": "A data-plane `kwk_` key of one project.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Session",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "membership",
                    fields.ForeignKeyField(
                        "models.Membership",
                        source_field="membership_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("ip_address", fields.CharField(null=True, max_length=64)),
            ],
            options={
                "table": "session",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The `kws_` token of a signed-in person. Only its SHA-256 is stored.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaleTokenReport",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "workspace",
                    fields.ForeignKeyField(
                        "models.Workspace",
                        source_field="workspace_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="stale_reports",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("generated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("stale_after_days", fields.IntField()),
                ("sweep_id", fields.CharField(max_length=64)),
            ],
            options={
                "table": "stale_token_report",
                "app": "models",
                "unique_together": (("workspace", "sweep_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaleTokenReportEntry",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "report",
                    fields.ForeignKeyField(
                        "models.StaleTokenReport",
                        source_field="report_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="entries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "token",
                    fields.ForeignKeyField(
                        "models.ManagementToken",
                        source_field="token_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="stale_entries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("reason", fields.CharField(max_length=16)),
                ("last_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("idle_days", fields.IntField()),
                ("auto_revoked", fields.BooleanField(default=False)),
            ],
            options={
                "table": "stale_token_report_entry",
                "app": "models",
                "indexes": [Index(fields=["report_id", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
