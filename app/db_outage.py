"""Whether the database answers, as this process's requests see it, logged once per change of state.

Requests report the outages they meet (`failed`): the first one logs "the database is
unavailable", the rest log nothing (the answer is a 503, `app.http.unavailable`). While it is
down, requests start a probe (`SELECT 1`, at most one at a time and one a second) so that
"available again" is logged as soon as it answers, whether or not anything calls /readyz.
/readyz shares the same probe, so a burst of probes never piles up on a frozen server.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from app.db_errors import is_database_unavailable
from app.usage.availability import Availability

log = logging.getLogger("keyward.database")

PROBE_INTERVAL_SECONDS = 1.0


class DatabaseOutage:
    def __init__(self, ping: Callable[[], Awaitable[object]]) -> None:
        self._ping = ping
        self._state = Availability(
            log, "requests", "the database", while_down="requests are answered 503 UNAVAILABLE until it answers"
        )
        self._probe: asyncio.Task[bool] | None = None
        self._probed_at = 0.0

    @property
    def available(self) -> bool:
        """As last seen: False from a failure until a query (a probe) succeeds again."""
        return self._state.reachable

    def failed(self, error: BaseException) -> None:
        self._state.down(error)

    def answered(self) -> None:
        self._state.up()

    def probe(self) -> "asyncio.Task[bool]":
        """The probe running now, or a new one: True when the database answered `SELECT 1`."""
        if self._probe is None or self._probe.done():
            self._probed_at = time.monotonic()
            self._probe = asyncio.create_task(self._run_probe(), name="keyward-database-probe")
        return self._probe

    def watch_for_recovery(self) -> None:
        """While down, probe (at most once a second) so that the recovery is noticed and logged."""
        if not self.available and time.monotonic() - self._probed_at >= PROBE_INTERVAL_SECONDS:
            self.probe()

    async def _run_probe(self) -> bool:
        try:
            await self._ping()
        except Exception as error:
            if is_database_unavailable(error):
                self.failed(error)
            else:
                log.warning("database probe failed: %s", type(error).__name__, exc_info=True)
            return False
        self.answered()
        return True

    async def close(self) -> None:
        """Stop a probe still running (at shutdown, before the connections close)."""
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
