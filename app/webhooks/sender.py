"""One delivery attempt: resolve once, check the addresses, POST to a permitted one, read a little, close.

No redirects are followed, no proxy or environment settings are used, the answer is read up to
`READ_LIMIT` bytes, and the whole attempt (resolution included) is bounded by one timeout.
"""

import asyncio
from dataclasses import dataclass

import httpx

from app.webhooks.destinations import (
    AllowList,
    DestinationRefused,
    InvalidUrl,
    IPAddress,
    Resolver,
    check_url,
    literal_address,
    permitted_addresses,
    system_resolver,
)

READ_LIMIT = 64 * 1024
USER_AGENT = "Keyward-Webhooks/1"


@dataclass(frozen=True)
class AttemptResult:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, from a 429 or 503 answer's Retry-After


@dataclass(frozen=True)
class Policy:
    allow: AllowList
    allow_http: bool
    timeout: float
    resolver: Resolver = system_resolver


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return shown if port == default else f"{shown}:{port}"


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("retry-after", "")
    # ASCII digits only: str.isdigit also takes superscripts ("²"), which float refuses with a ValueError.
    return float(value) if value.isascii() and value.isdigit() else None


async def _post(
    client: httpx.AsyncClient, url: str, address: IPAddress, body: bytes, headers: dict[str, str]
) -> AttemptResult:
    target = httpx.URL(url)
    destination = check_url(url, allow_http=True)
    pinned = target.copy_with(host=str(address))
    extensions = {}
    if destination.scheme == "https" and literal_address(destination.host) is None:
        extensions["sni_hostname"] = destination.host
    request_headers = {**headers, "Host": _host_header(destination.host, destination.port, destination.scheme)}
    request = client.build_request("POST", pinned, content=body, headers=request_headers, extensions=extensions)
    response = await client.send(request, stream=True)
    try:
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received >= READ_LIMIT:
                break
    finally:
        await response.aclose()
    if 200 <= response.status_code < 300:
        return AttemptResult(True, response.status_code)
    if 300 <= response.status_code < 400:
        error = f"The endpoint answered HTTP {response.status_code} (a redirect, which is not followed)."
    else:
        error = f"The endpoint answered HTTP {response.status_code}."
    return AttemptResult(False, response.status_code, error, _retry_after(response))


async def _attempt(url: str, body: bytes, headers: dict[str, str], policy: Policy) -> AttemptResult:
    try:
        destination = check_url(url, allow_http=policy.allow_http)
        addresses = await permitted_addresses(destination, policy.allow, policy.resolver)
    except (InvalidUrl, DestinationRefused) as exc:
        return AttemptResult(False, None, str(exc))
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=policy.timeout) as client:
        last_error = "No address could be connected to."
        for address in addresses:
            try:
                return await _post(client, url, address, body, headers)
            except httpx.ConnectError:
                last_error = f"Could not connect to {destination.host} ({address})."
            except httpx.TimeoutException:
                return AttemptResult(False, None, f"Timed out after {policy.timeout:g} s.")
            except httpx.HTTPError as exc:
                return AttemptResult(False, None, f"The request failed: {type(exc).__name__}.")
        return AttemptResult(False, None, last_error)


async def send(url: str, body: bytes, headers: dict[str, str], policy: Policy) -> AttemptResult:
    """POST `body` to `url`; never raises for anything the destination or the network does."""
    try:
        async with asyncio.timeout(policy.timeout):
            return await _attempt(url, body, {"User-Agent": USER_AGENT, **headers}, policy)
    except TimeoutError:
        return AttemptResult(False, None, f"Timed out after {policy.timeout:g} s.")
