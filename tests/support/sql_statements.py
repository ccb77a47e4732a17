"""Helpers for the last-used and stale-sweep tests: statement counting, row lookups, usage in bulk."""

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from app.graphql.ids import pk_of
from app.models import ApiKey, ManagementToken

_EXECUTE = ("execute_query", "execute_query_dict", "execute_many", "execute_insert")


def _client_classes() -> list[type]:
    from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
    from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

    return [SqliteClient, SqliteTransactionWrapper, AsyncpgDBClient, TransactionWrapper]


@contextlib.contextmanager
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement sent while inside, through any connection or transaction of both backends.

    It observes and passes every call through unchanged: the database still does the work.
    """
    seen: list[str] = []

    def observe(original: Any) -> Any:
        async def observed(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            seen.append(query)
            return await original(self, query, *args, **kwargs)

        return observed

    with monkeypatch.context() as patch:
        for cls in _client_classes():
            for name in _EXECUTE:
                if name in vars(cls):
                    patch.setattr(cls, name, observe(vars(cls)[name]))
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
