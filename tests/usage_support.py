"""Helpers for the last-used and stale-sweep tests: statement counting, row lookups, usage in bulk."""

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from tortoise.connection import get_connection

from app.graphql.ids import pk_of
from app.models import ApiKey, ManagementToken


@contextlib.contextmanager
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement sent through the default connection's `execute_query` while inside.

    It observes and passes every call through unchanged: the database still does the work.
    """
    conn = get_connection("default")
    original = conn.execute_query
    seen: list[str] = []

    async def observed(query: str, values: list[Any] | None = None) -> Any:
        seen.append(query)
        return await original(query, values)

    with monkeypatch.context() as patch:
        patch.setattr(conn, "execute_query", observed)
        yield seen


def updates_of(seen: list[str], table: str) -> list[str]:
    return [sql for sql in seen if f"UPDATE {table}" in sql]


async def token_row(global_id: str) -> ManagementToken:
    pk = pk_of(global_id, "ManagementToken")
    assert pk is not None
    return await ManagementToken.get(id=pk)


async def key_row(global_id: str) -> ApiKey:
    pk = pk_of(global_id, "ApiKey")
    assert pk is not None
    return await ApiKey.get(id=pk)
