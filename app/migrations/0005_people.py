from tortoise import migrations
from tortoise.migrations import operations as ops
from app.security.permissions import WorkspaceRole
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0004_webhooks_and_leaks")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Invitation",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "workspace",
                    fields.ForeignKeyField(
                        "models.Workspace",
                        source_field="workspace_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="invitations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("email", fields.CharField(max_length=254)),
                (
                    "role",
                    fields.CharEnumField(
                        description="OWNER: OWNER\nADMIN: ADMIN\nMEMBER: MEMBER", enum_type=WorkspaceRole, max_length=16
                    ),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("accepted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("invited_by_kind", fields.CharField(max_length=32)),
                ("invited_by_id", fields.CharField(null=True, max_length=64)),
                ("invited_by_label", fields.CharField(max_length=300)),
            ],
            options={
                "table": "invitation",
                "app": "models",
                "indexes": [Index(fields=["workspace_id", "email"])],
                "pk_attr": "id",
                "table_description": "An invitation to join a workspace with a role.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Membership",
            name="last_seen_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
