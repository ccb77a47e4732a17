from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0005_people")]

    initial = False

    operations = [
        ops.AddField(
            model_name="ApiKey",
            name="allowed_ips",
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name="ApiKey",
            name="expires_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="ApiKey",
            name="meta",
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name="ManagementToken",
            name="allowed_ips",
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name="ManagementToken",
            name="expires_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="ManagementToken",
            name="project_ids",
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name="Workspace",
            name="max_token_lifetime_days",
            field=fields.IntField(null=True),
        ),
    ]
