"""Room on every page of the two tables whose rows the flush and the sweep update in bulk (PostgreSQL).

`last_used_at`, `last_used_ip`, `stale_since` and `revoked_at` are in no index. With free space on
the page, PostgreSQL updates such a row in place (a HOT update) instead of writing a new version
elsewhere and a new entry in every index of the table: the flush of a busy minute and a sweep of a
million tokens then no longer rewrite the token-hash index at random places. SQLite has no fillfactor.
Existing pages keep their layout until rewritten (`VACUUM FULL management_token, api_key`).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

FILLFACTOR = 70
TABLES = ("management_token", "api_key")


async def _set(fillfactor: int | None, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    for table in TABLES:
        option = f"SET (fillfactor = {fillfactor})" if fillfactor else "RESET (fillfactor)"
        await client.execute_script(f"ALTER TABLE {table} {option}")


async def forwards(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    await _set(FILLFACTOR, schema_editor)


async def backwards(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    await _set(None, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [ops.RunPython(forwards, backwards)]
