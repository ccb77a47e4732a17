"""POST /v1/leaks: leaked credentials in GitHub's secret-scanning partner format; verdicts in GitHub's format.

In: `[{"token", "type", "url", "source"}, …]` (at most 1,000 entries). Out:
`[{"token_raw", "token_type", "label": "true_positive" | "false_positive"}, …]`. Rate-limited per client
address (`KEYWARD_LEAKS_RATE_LIMIT`, a moving window in each API process; IPv6 by its /64). GitHub's signature
headers are not needed: possession of the value is the proof, and the value is all that is acted on.
"""

import logging
import time
from collections.abc import Awaitable, Callable

import limits
import orjson
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import Response

from app.http.authentication import client_ip
from app.services import leaks
from app.services.login_throttle import address_key

log = logging.getLogger("keyward.leaks")

FORMAT = 'Send a JSON array of {"token": "...", "type": "...", "url": "...", "source": "..."} objects.'


def _error(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"message": message, "code": status}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def parse_reports(payload: object) -> list[leaks.LeakReport] | str:
    """The reports, or what is wrong with the body (never repeating a value)."""
    if not isinstance(payload, list):
        return FORMAT
    reports = []
    for index, entry in enumerate(payload):
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            return f'Entry {index} has no "token" string. {FORMAT}'
        kind = entry.get("type")
        reports.append(
            leaks.LeakReport(
                token=entry["token"],
                type=leaks.clean_text(kind, 100),
                url=entry.get("url") if isinstance(entry.get("url"), str) else None,
                source=entry.get("source") if isinstance(entry.get("source"), str) else None,
            )
        )
    return reports


def leaks_endpoint(rate_limit: str) -> Callable[[Request], Awaitable[Response]]:
    item = limits.parse(rate_limit)
    limiter = MovingWindowRateLimiter(MemoryStorage())

    async def report_leaks(request: Request) -> Response:
        address = client_ip(request)
        counted = address_key(address)  # IPv6 by its /64, as the log-in and sign-up budgets count it
        if not await limiter.hit(item, "leaks", counted):
            stats = await limiter.get_window_stats(item, "leaks", counted)
            wait = max(1, int(stats.reset_time - time.time()) + 1)
            return _error("Too many leak reports from this address: try again later.", 429, {"Retry-After": str(wait)})
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(f"The body is not JSON. {FORMAT}", 400)
        if isinstance(payload, list) and len(payload) > leaks.MAX_ENTRIES:
            return _error(f"At most {leaks.MAX_ENTRIES:,} entries per request: split the report.", 413)
        reports = parse_reports(payload)
        if isinstance(reports, str):
            return _error(reports, 400)
        verdicts = await leaks.process(reports, address)
        found = sum(v.label == leaks.TRUE_POSITIVE for v in verdicts)
        if found:
            shown = address or "unknown"
            log.warning("leak report from %s: %d of %d entries are Keyward credentials", shown, found, len(verdicts))
        body = [{"token_raw": v.token_raw, "token_type": v.token_type, "label": v.label} for v in verdicts]
        return Response(orjson.dumps(body), media_type="application/json")

    return report_leaks
