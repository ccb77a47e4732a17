"""`keyward check`: is this configuration ready to run? One line per finding, exit 1 on any problem.

It validates every setting (as the service reads them), then connects to the database and to
Redis with short timeouts, and lists migrations not yet applied. It changes nothing: a SQLite
file that does not exist yet is reported, not created.
"""

import asyncio
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.observability.startup import without_password
from app.settings import Settings
from app.settings_errors import schedule_problems, validation_error_lines


def _sqlite_path(url: str) -> Path | None:
    path = url.split("://", 1)[1].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


async def _database(settings: Settings, seconds: float) -> tuple[list[str], list[str]]:
    from tortoise import Tortoise

    from app import db

    url = settings.database_url
    shown = without_password(url)
    if db.is_embedded(url):
        path = _sqlite_path(url)
        if path is not None and not path.exists():
            return [f"database {shown}: the file does not exist yet (`keyward serve` creates and migrates it)"], []
    step = "cannot connect"
    try:
        async with asyncio.timeout(seconds):
            await Tortoise.init(config=db.tortoise_config(url))
        try:
            async with asyncio.timeout(seconds):
                await db.ping()
                step = "cannot read which migrations are applied"
                pending = await db.pending_migrations()
        finally:
            await Tortoise.close_connections()
    except Exception as exc:  # any failure to connect or to read is the finding
        return [], [f"database {shown}: {step} ({type(exc).__name__}: {_first_line(exc)})"]
    if not pending:
        return [f"database {shown}: reachable, every migration applied"], []
    names = ", ".join(pending)
    if db.is_embedded(url):
        return [
            f"database {shown}: reachable; {len(pending)} pending migration(s) `keyward serve` applies: {names}"
        ], []
    return [], [f"database {shown}: {len(pending)} pending migration(s), run `keyward migrate`: {names}"]


async def _redis(settings: Settings, seconds: float) -> tuple[list[str], list[str]]:
    if not settings.redis_url:
        return ["redis: not used (embedded mode: the API process buffers, flushes and sweeps)"], []
    from redis.asyncio import Redis

    shown = without_password(settings.redis_url)
    client = Redis.from_url(settings.redis_url, socket_connect_timeout=seconds, socket_timeout=seconds)
    try:
        async with asyncio.timeout(seconds):
            await client.ping()
            refusal = _refuses_writes(await client.info("memory"), await client.info("replication"))
    except Exception as exc:  # any failure to answer is the finding
        return [], [f"redis {shown}: cannot connect ({type(exc).__name__}: {_first_line(exc)})"]
    finally:
        await client.aclose()
    if refusal:
        return [], [f"redis {shown}: reachable, but {refusal}"]
    return [f"redis {shown}: reachable"], []


def _refuses_writes(memory: dict[str, Any], replication: dict[str, Any]) -> str | None:
    """Why this Redis refuses the writes every Keyward process makes (uses, the revocation epoch, the
    worker's jobs and its flush lease), read from INFO without writing anything; None when it takes them."""
    if replication.get("role") == "slave":
        primary = f"{replication.get('master_host', '?')}:{replication.get('master_port', '?')}"
        return f"it is a replica of {primary} and refuses writes (READONLY): name the primary"
    limit = int(memory.get("maxmemory", 0))
    used = int(memory.get("used_memory", 0)) - int(memory.get("mem_not_counted_for_evict", 0))
    policy = memory.get("maxmemory_policy", "")
    if limit and used > limit and policy == "noeviction":
        return (
            f"it is full ({used} bytes used of maxmemory {limit}, policy noeviction) and refuses writes (OOM): "
            "raise maxmemory, and see whether keyward worker runs"
        )
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:200] or "no answer"


async def _connections(settings: Settings, seconds: float) -> tuple[list[str], list[str]]:
    findings = [await _database(settings, seconds), await _redis(settings, seconds)]
    return [line for ok, _ in findings for line in ok], [line for _, bad in findings for line in bad]


def run_checks(timeout: float = 5.0) -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        # The lines every command prints for a bad setting (app/settings_errors.py), passwords redacted.
        for line in validation_error_lines(error):
            print(f"problem: {line}", file=sys.stderr)
        print("problem: database and Redis not checked: fix the settings first", file=sys.stderr)
        return 1
    problems = schedule_problems(settings)
    ok, bad = asyncio.run(_connections(settings, timeout))
    problems.extend(bad)
    print(f"ok: settings valid ({len(type(settings).model_fields)} settings; `keyward config` prints them)")
    for line in ok:
        print(f"ok: {line}")
    for line in problems:
        print(f"problem: {line}", file=sys.stderr)
    return 1 if problems else 0
