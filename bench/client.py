"""An exact number of requests over keep-alive connections (wrk runs for a time, not a count).

Used where the count matters: the UPDATEs of 10,000 requests, the memory after 1,000 and after
100,000 requests. Plain asyncio streams with the request bytes prepared once, so the client costs
the shared CPU little; every answer's status is counted.
"""

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Sent:
    requests: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def graphql_request(host: str, port: int, token: str, body: str) -> bytes:
    payload = body.encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def _head(raw: bytes) -> tuple[int, int, bool]:
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
        elif name == "transfer-encoding":
            raise RuntimeError("chunked answers are not expected from these endpoints")
    return status, length, close


async def send(host: str, port: int, requests: Sequence[bytes], total: int, connections: int = 16) -> Sent:
    """Send exactly `total` requests (cycling through `requests`) over `connections` keep-alive connections."""
    issued = 0
    statuses: Counter[int] = Counter()

    async def connection() -> None:
        nonlocal issued
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while issued < total:
                index = issued
                issued += 1
                writer.write(requests[index % len(requests)])
                status, length, close = _head(await reader.readuntil(b"\r\n\r\n"))
                await reader.readexactly(length)
                statuses[status] += 1
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(min(connections, max(total, 1)))))
    return Sent(total, time.perf_counter() - started, statuses)


def post_graphql(url: str, token: str | None, body: str) -> tuple[int, dict[str, object]]:
    """One request with the standard library (for sanity checks before a measurement)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{url}/graphql", data=body.encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
