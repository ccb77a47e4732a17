"""Tortoise's asyncpg engine with a bound on waiting for a pooled connection.

asyncpg bounds connecting (`timeout`) and each statement (`command_timeout`), both set from the
URL's credentials by `app.db.connection_config`, but Tortoise acquires pool connections with no
timeout: with the pool exhausted by statements stuck on a frozen server, every further request
waited forever. Here acquiring (creating the pool on first use, waiting for a free connection,
opening one) gives up after `acquire_timeout` seconds with `TimeoutError`, and releasing a
connection is bounded by the same time (asyncpg's default for `release`). A connection whose
statement failed for want of a database (`app.db_errors`) is closed instead of released: waiting
for its cancellation, or for a ROLLBACK, on a frozen server would add those bounds to the request.

Tortoise loads an engine by module path and reads `client_class` (`"engine": __name__`).
"""

import asyncio
import contextlib
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import PoolConnectionWrapper, TransactionContext, TransactionContextPooled
from tortoise.connection import get_connections

from app.db_errors import is_database_unavailable


class BoundedPoolConnection(PoolConnectionWrapper[asyncpg.Connection]):
    def __init__(self, client: "BoundedAsyncpgClient") -> None:
        super().__init__(client, client._pool_init_lock)
        self.timeout = client.acquire_timeout

    async def __aenter__(self) -> asyncpg.Connection:
        async with asyncio.timeout(self.timeout):
            await self.ensure_connection()
            assert self.client._pool is not None
            self.connection = await self.client._pool.acquire(timeout=self.timeout)
        return self.connection

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        if exc_val is not None and self.connection is not None and is_database_unavailable(exc_val):
            # Broken or timed out: close it at once rather than wait for its cancellation on a
            # server that may not answer (the pool opens a new one when needed).
            self.connection.terminate()
        await super().__aexit__(exc_type, exc_val, exc_tb)


class BoundedTransactionContext(TransactionContextPooled):
    def __init__(self, client: TransactionWrapper, parent: "BoundedAsyncpgClient") -> None:
        super().__init__(client, parent._pool_init_lock)
        self.timeout = parent.acquire_timeout

    async def __aenter__(self) -> TransactionWrapper:
        async with asyncio.timeout(self.timeout):
            await self.ensure_connection()
            pool = self.client._parent._pool
            self.client._connection = await pool.acquire(timeout=self.timeout)
        self.token = get_connections().set(self.connection_name, self.client)
        try:
            await self.client.begin()
        except BaseException:
            # Tortoise would keep the connection out of the pool for good when BEGIN fails.
            get_connections().reset(self.token)
            with contextlib.suppress(Exception):
                await pool.release(self.client._connection)
            raise
        return self.client  # type: ignore[return-value]  # Tortoise's own __aenter__ returns the same client

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        if exc_val is not None and is_database_unavailable(exc_val):
            # No ROLLBACK on a server that may not answer: closing the connection rolls the
            # transaction back on the server's side, and the pool opens a new one when needed.
            self.client._connection.terminate()
            self.client._finalized = True
        await super().__aexit__(exc_type, exc_val, exc_tb)


class BoundedAsyncpgClient(AsyncpgDBClient):
    def __init__(self, *args: Any, acquire_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    def acquire_connection(self) -> BoundedPoolConnection:  # type: ignore[override]
        return BoundedPoolConnection(self)

    def _in_transaction(self) -> TransactionContext:
        return BoundedTransactionContext(TransactionWrapper(self), self)


client_class = BoundedAsyncpgClient
