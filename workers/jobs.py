"""Worker jobs: plain async functions taking arq's `ctx`, idempotent, callable directly from tests.

`ctx` carries what `workers.context.startup` put there: `settings` and `usage` (the Redis usage
buffer); arq adds `job_id` and friends when it runs them.
"""

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from app import db
from app.db_errors import is_database_unavailable
from app.observability import metrics
from app.services.stale_sweep import SweepResult, sweep_when_usage_settled
from app.services.webhook_delivery import DeliveryConfig, delivery_round
from app.usage.availability import Availability
from app.usage.flush import FlushResult, flush

log = logging.getLogger("keyward.worker")


# The database as the worker's jobs see it: one line when it stops answering and one when it is back, as the
# API process and its embedded rounds say it, instead of arq's traceback for every job of every tick that
# meets the outage. Nothing waits on it: uses stay in Redis, due deliveries stay due, for the next tick.
DATABASE = Availability(
    log,
    "worker",
    "the database",
    while_down="its jobs fail until it answers (uses stay in Redis, deliveries stay due; nothing is lost)",
)
PROBE_SECONDS = 5.0


async def _database_is_down(error: BaseException) -> bool:
    """The job failed because the database does not answer: its error says so, and a `SELECT 1` fails too
    (a timeout or a lost connection may also be Redis's)."""
    if not is_database_unavailable(error):
        return False
    try:
        async with asyncio.timeout(PROBE_SECONDS):
            await db.ping()
    except Exception as probe_error:
        return is_database_unavailable(probe_error)
    return False


def observed(job: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> Callable[[dict[str, Any]], Awaitable[Any]]:
    """Count the job's runs by outcome and time them (keyward_worker_jobs_total, ..._duration_seconds).

    A run the database did not answer is a failure in the metrics and in `DATABASE`'s one line, not a traceback.
    """
    name = job.__name__

    @functools.wraps(job)
    async def run(ctx: dict[str, Any]) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            result = await job(ctx)
        except Exception as error:
            metrics.WORKER_JOBS.labels(name, "failure").inc()
            if await _database_is_down(error):
                DATABASE.down(error)
                return None
            raise
        except BaseException:  # arq's job timeout cancelling it
            metrics.WORKER_JOBS.labels(name, "failure").inc()
            raise
        finally:
            metrics.WORKER_JOB_DURATION.labels(name).observe(time.perf_counter() - started)
        DATABASE.up()
        metrics.WORKER_JOBS.labels(name, "success").inc()
        return result

    return run


def _outcome(result: FlushResult) -> dict[str, Any]:
    return {
        "uses": result.uses,
        "rows_changed": result.rows_changed,
        "batches": result.batches,
        "dead_lettered": result.dead_lettered,
        "skipped": result.skipped,
    }


@observed
async def flush_usage(ctx: dict[str, Any]) -> dict[str, Any]:
    """Buffered uses → database. Single-flight: while another flush holds the lease, this one does nothing."""
    result: FlushResult = await flush(ctx["usage"])
    if result.uses:
        log.info(
            "flushed %d uses in %d batch(es), %d rows changed%s",
            result.uses,
            result.batches,
            result.rows_changed,
            f", {result.dead_lettered} set aside" if result.dead_lettered else "",
        )
    return _outcome(result)


async def _flush_everything(ctx: dict[str, Any]) -> None:
    """The sweep's flush: wait for a running flush to finish (or its lease to expire), then flush."""
    result: FlushResult = await flush(ctx["usage"], wait=None)
    if result.uses:
        log.info("flushed %d uses before the stale sweep", result.uses)


@observed
async def stale_sweep(ctx: dict[str, Any]) -> dict[str, Any]:
    """Sweep once every use made before it started is in the database (see `sweep_when_usage_settled`).

    The sweep id is arq's job id: a cron tick retried after a crash writes nothing twice.
    """
    result: SweepResult = await sweep_when_usage_settled(
        lambda: _flush_everything(ctx),
        settle_seconds=ctx["settings"].sweep_settle_seconds,
        sweep_id=str(ctx.get("job_id") or "") or None,
    )
    log.info(
        "stale sweep %s: %d stale, %d newly flagged, %d revoked, %d report(s), %d expiring API key(s)",
        result.sweep_id,
        result.stale,
        result.flagged,
        result.revoked,
        len(result.report_ids),
        result.expiring_api_keys,
    )
    return {
        "sweep_id": result.sweep_id,
        "reports": len(result.report_ids),
        "stale": result.stale,
        "flagged": result.flagged,
        "revoked": result.revoked,
        "expiring_api_keys": result.expiring_api_keys,
    }


@observed
async def deliver_webhooks(ctx: dict[str, Any]) -> dict[str, int]:
    """Send the due webhook deliveries (claims keep concurrent runs and workers from sending one twice)."""
    settings = ctx["settings"]
    config = ctx.get("webhook_delivery") or DeliveryConfig.from_settings(settings)
    result = await delivery_round(config, timedelta(days=settings.webhook_retention_days))
    return {"attempted": result.attempted, "delivered": result.delivered, "failed_attempts": result.failed_attempts}
