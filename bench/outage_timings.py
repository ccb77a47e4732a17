"""How long requests and /readyz take while PostgreSQL is stopped, then frozen, with the default timeouts.

    PYTHONPATH=. .venv/bin/python bench/outage_timings.py            # the defaults (5 / 5 / 10 s)
    PYTHONPATH=. .venv/bin/python bench/outage_timings.py --short    # 1 s each, as the tests use

A real `keyward serve` on a throwaway cluster (ports from KEYWARD_TEST_PORTS); the figures are in the
README's "Database outages". Not a ratio benchmark: these are the bounds the timeouts set.
"""

import asyncio
import sys
import time
from collections.abc import Callable

import httpx

from app import db
from app.security.tokens import TokenKind, generate
from tests.support.serve_processes import serve
from tests.support.throwaway_services import throwaway_postgres


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def main() -> None:
    settings = {"stale_sweep_cron": "off", "usage_flush_seconds": "3600"}
    if "--short" in sys.argv:
        settings |= {f"database_{name}_timeout_seconds": "1" for name in ("connect", "acquire", "statement")}
    with throwaway_postgres() as pg:
        asyncio.run(db.migrate(pg.url))
        with serve(pg.url, **settings) as server, httpx.Client(base_url=server.base_url, timeout=120) as http:
            key = {"key": generate(TokenKind.API_KEY).value}
            http.post("/v1/keys/verify", json=key)
            for label, fail, recover in (("stopped", pg.stop, pg.start), ("frozen", pg.freeze, pg.thaw)):
                fail()
                for _ in range(3):
                    verify, verify_s = timed(lambda: http.post("/v1/keys/verify", json=key))
                    ready, ready_s = timed(lambda: http.get("/readyz"))
                    print(
                        f"{label}: verify {verify.status_code} in {verify_s:.2f} s,",
                        f"readyz {ready.status_code} in {ready_s:.2f} s",
                    )
                recover()
                started = time.monotonic()
                while http.get("/readyz").status_code != 200:
                    time.sleep(0.05)
                print(f"{label}: /readyz 200 again {time.monotonic() - started:.2f} s after the database was back")


if __name__ == "__main__":
    main()
