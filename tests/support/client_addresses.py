"""Clients of one running app that come from different addresses (throttling counts per address)."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from starlette.applications import Starlette

from tests.support.api import Api


@asynccontextmanager
async def apis_from(app: Starlette, *addresses: str) -> AsyncIterator[list[Api]]:
    """One Api per client address, all on the same app (and so the same database)."""
    async with AsyncExitStack() as stack:
        apis = []
        for address in addresses:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://keyward.test")
            )
            apis.append(Api(http))
        yield apis
