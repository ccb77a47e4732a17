"""`python -m tests.support.hostile_load URL CONNECTIONS SECONDS KIND`: documents of KIND (`repeated`: the
issue's 490 repeated fields; `arguments`: an argument list at the token limit; `trivial`: `{ __typename }`)
from CONNECTIONS connections for SECONDS, in a process of its own (so that a
test measuring the server meanwhile shares no interpreter with the load). Prints the status codes it got,
as JSON, when done.
"""

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Callable

import httpx
import orjson

from tests.support.hostile_documents import long_argument_document, repeated_viewer_document


def trivial_document() -> str:
    return "{ __typename }"


async def load(url: str, connections: int, seconds: float, document: Callable[[], str]) -> Counter[int]:
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=1.0)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def one_connection() -> None:
            while time.monotonic() < deadline:
                response = await client.post("/graphql", json={"query": document()})
                statuses[response.status_code] += 1

        await asyncio.gather(*(one_connection() for _ in range(connections)))
    return statuses


if __name__ == "__main__":
    url, connections, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    documents = {"trivial": trivial_document, "repeated": repeated_viewer_document, "arguments": long_argument_document}
    document = documents[sys.argv[4]]
    statuses = asyncio.run(load(url, connections, seconds, document))
    print(orjson.dumps(statuses, option=orjson.OPT_NON_STR_KEYS).decode())
