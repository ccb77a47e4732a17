"""The stale sweep never judges a token on a stale lastUsedAt, in every mode, with real `keyward serve` processes.

In each test, nine management tokens were created 200 days ago and never used as far as the
database knows, in a workspace that revokes tokens idle for 180 days. Eight of them are used
through a running API process a moment before the sweep runs; the ninth stays idle. The sweep
must revoke the idle one and leave the eight alone (not revoked, not flagged, not in a report),
wherever their uses were still buffered:

- embedded, one process: `keyward stale-sweep` in a separate process (the uses are in the API's memory);
- embedded, several processes: `keyward serve --workers 2` (each worker holds some of the uses),
  the sweep run by `keyward stale-sweep` or by the workers' own schedule;
- Redis and a worker: the uses in Redis, and the uses of an API process cut off from Redis.
"""

import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette

from app.graphql.ids import pk_of
from app.models import ManagementToken, StaleTokenReportEntry
from app.settings import Settings
from tests.support.api import Account, Api
from tests.support.app_clock import clock_file_setting
from tests.support.serve_processes import CLIENT_LIMITS, Server, keyward_environment, run_keyward, serve
from tests.support.throwaway_services import free_port

VIEWER = "{ viewer { kind } }"
UPDATE_SETTINGS = """
mutation($input: WorkspaceSettingsInput!) { updateWorkspaceSettings(input: $input) { userErrors { code } } }"""

# The API processes flush every FLUSH seconds; the sweep waits SETTLE (>= FLUSH) for their uses.
# FLUSH is longer than a `keyward stale-sweep` process takes to start, so the uses made just
# before it are surely still buffered when it would judge without waiting.
FLUSH, SETTLE = "5", "6"
# Seconds from the start of `keyward serve --workers 2` to the minute its clock ticks at: enough for it to start.
TICK_AFTER = 12


@dataclass
class Tokens:
    owner: Account
    used: list[tuple[int, str]]  # (id, secret) of the eight that are used
    idle: int


async def _tokens(api: Api, *, aged: bool = True) -> Tokens:
    owner = await api.sign_up()
    await api.ok(UPDATE_SETTINGS, {"input": {"staleAfterDays": 90, "autoRevokeStaleAfterDays": 180}}, owner.session)
    made = [await api.create_token(owner, ["VIEW_PROJECTS"], name=f"token {i}") for i in range(9)]
    ids = [pk_of(global_id, "ManagementToken") for global_id, _ in made]
    assert None not in ids
    tokens = Tokens(owner, [(pk, secret) for pk, (_, secret) in zip(ids[:8], made[:8], strict=True)], ids[8])  # type: ignore[misc]
    if aged:
        await _age(tokens)
    return tokens


async def _age(tokens: Tokens) -> None:
    """Created 200 days ago, never used as far as the database knows."""
    ids = [pk for pk, _ in tokens.used] + [tokens.idle]
    await ManagementToken.filter(id__in=ids).update(created_at=datetime.now(UTC) - timedelta(days=200))


async def _use_each(server: Server, tokens: Tokens, *, new_connections: bool = False) -> None:
    """One request per used token, all at once (each on a new connection when asked: spread over a server's
    workers); at once, so that the uses fit in the moments before a sweep's tick even on a busy machine."""

    async def use(secret: str) -> None:
        limits = httpx.Limits(max_keepalive_connections=0) if new_connections else CLIENT_LIMITS
        async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as http:
            await Api(http).ok(VIEWER, token=secret)

    await asyncio.gather(*(use(secret) for _, secret in tokens.used))


async def _assert_only_the_idle_token_was_judged(tokens: Tokens) -> None:
    used_ids = [pk for pk, _ in tokens.used]
    rows = {row.id: row for row in await ManagementToken.filter(id__in=[*used_ids, tokens.idle])}
    wrongly_revoked = [pk for pk in used_ids if rows[pk].revoked_at is not None]
    assert wrongly_revoked == [], f"{len(wrongly_revoked)} of 8 tokens used a moment before the sweep were revoked"
    assert [pk for pk in used_ids if rows[pk].stale_since is not None] == []
    assert all(rows[pk].last_used_at is not None for pk in used_ids)
    assert rows[tokens.idle].revoked_at is not None
    judged = await StaleTokenReportEntry.filter(token_id__in=[*used_ids, tokens.idle]).values_list(
        "token_id", flat=True
    )
    assert list(judged) == [tokens.idle]


async def test_embedded_sweep_in_a_separate_process_counts_uses_still_in_the_api(
    app: Starlette, database_url: str
) -> None:
    settings = {"usage_flush_seconds": FLUSH, "stale_sweep_settle_seconds": SETTLE, "stale_sweep_cron": "off"}
    with serve(database_url, **settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, limits=CLIENT_LIMITS, timeout=30) as http:
            tokens = await _tokens(Api(http))
        # given eight tokens used through the API process a moment ago
        await _use_each(server, tokens)
        # when an operator runs the sweep at once, in its own process
        code, output = await run_keyward(database_url, None, "stale-sweep", **settings)
        # then
        assert code == 0, output
        assert "1 revoked" in output, output
    await _assert_only_the_idle_token_was_judged(tokens)


async def test_embedded_sweep_counts_the_uses_buffered_in_each_of_two_workers(
    app: Starlette, database_url: str
) -> None:
    settings = {"usage_flush_seconds": FLUSH, "stale_sweep_settle_seconds": SETTLE, "stale_sweep_cron": "off"}
    with serve(database_url, workers=2, **settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, limits=CLIENT_LIMITS, timeout=30) as http:
            tokens = await _tokens(Api(http))
        # given eight tokens used a moment ago, each on a new connection (spread over both workers)
        await _use_each(server, tokens, new_connections=True)
        # when an operator runs the sweep at once
        code, output = await run_keyward(database_url, None, "stale-sweep", **settings)
        assert code == 0, output
    # then
    await _assert_only_the_idle_token_was_judged(tokens)


async def test_the_sweep_on_the_schedule_of_serve_with_two_workers_counts_the_uses_of_both(
    app: Starlette, api: Api, database_url: str, tmp_path: Path
) -> None:
    if database_url.startswith("postgres"):
        pytest.skip("the embedded default's own schedule runs in the SQLite pass")
    # The sweep runs on the processes' own schedule (every minute here), in both workers at the tick. Their
    # clock is set ahead so that its next minute starts TICK_AFTER seconds from now, not up to a minute.
    tokens = await _tokens(api, aged=False)
    offset = (60 - TICK_AFTER - time.time() % 60) % 60
    settings = {"usage_flush_seconds": FLUSH, "stale_sweep_settle_seconds": SETTLE, "stale_sweep_cron": "* * * * *"}
    clock = clock_file_setting(tmp_path / "clock", timedelta(seconds=offset))
    with serve(database_url, workers=2, **settings, **clock) as server:
        # given eight tokens used in the last three seconds before the sweep's tick (less than the flush
        # interval), spread over both workers (aged just before: an earlier tick's sweep must not see them
        # old and unused)
        tick = time.time() + _seconds_to_next_minute(time.time() + offset)
        if tick - time.time() < 3.5:
            tick += 60
        await asyncio.sleep(tick - time.time() - 3.0)
        await _age(tokens)
        await _use_each(server, tokens, new_connections=True)
        assert time.time() < tick, "the uses came after the tick"
        # when the tick comes and the sweep has had the time it takes (its settle time, then the sweep)
        await asyncio.sleep(tick - time.time() + float(SETTLE) + 4)
    # then
    await _assert_only_the_idle_token_was_judged(tokens)


def _seconds_to_next_minute(now: float) -> float:
    return 60 - now % 60


async def test_sweep_with_redis_and_a_worker_counts_uses_in_redis(
    app: Starlette, database_url: str, redis_url: str
) -> None:
    settings = {"usage_flush_seconds": FLUSH, "stale_sweep_settle_seconds": SETTLE, "stale_sweep_cron": "off"}
    with serve(database_url, redis_url, **settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, limits=CLIENT_LIMITS, timeout=30) as http:
            tokens = await _tokens(Api(http))
        worker = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "keyward", "worker"),
            env=keyward_environment(database_url, redis_url, settings),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            # given eight tokens used a moment ago (their uses in Redis, or in a flush under way)
            await _use_each(server, tokens)
            # when an operator runs the sweep
            code, output = await run_keyward(database_url, redis_url, "stale-sweep", **settings)
        finally:
            worker.terminate()
            await worker.wait()
        assert code == 0, output
    await _assert_only_the_idle_token_was_judged(tokens)


async def test_sweep_with_redis_counts_uses_of_an_api_process_cut_off_from_redis(
    app: Starlette, database_url: str, redis_url: str
) -> None:
    # given an API process that cannot reach Redis (it keeps its uses in process), while the
    # sweep reaches Redis and the database
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    settings = {"usage_flush_seconds": FLUSH, "stale_sweep_settle_seconds": SETTLE, "stale_sweep_cron": "off"}
    with serve(database_url, nowhere, usage_redis_retry_seconds="0.2", **settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, limits=CLIENT_LIMITS, timeout=30) as http:
            tokens = await _tokens(Api(http))
        await _use_each(server, tokens)
        # when an operator runs the sweep with Redis at once
        code, output = await run_keyward(database_url, redis_url, "stale-sweep", **settings)
        assert code == 0, output
    # then
    await _assert_only_the_idle_token_was_judged(tokens)


def test_the_settle_time_covers_the_flush_interval() -> None:
    # unset: the flush interval plus room for the flush itself
    assert Settings(usage_flush_seconds=10).sweep_settle_seconds == 15
    assert Settings(usage_flush_seconds=10, stale_sweep_settle_seconds=12).sweep_settle_seconds == 12
    # shorter than the flush interval: refused, since the sweep would judge before uses arrive
    with pytest.raises(ValidationError, match="KEYWARD_STALE_SWEEP_SETTLE_SECONDS"):
        Settings(usage_flush_seconds=10, stale_sweep_settle_seconds=9)
