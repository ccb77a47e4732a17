"""Worker jobs: plain async functions taking arq's `ctx`, idempotent, callable directly from tests.

`ctx` carries what `workers.context.startup` put there: `settings` and `usage` (the Redis usage
buffer); arq adds `job_id` and friends when it runs them.
"""

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from app.observability import metrics
from app.services.stale_sweep import SweepResult, sweep_when_usage_settled
from app.services.webhook_delivery import DeliveryConfig, delivery_round
from app.usage.flush import FlushResult, flush

log = logging.getLogger("keyward.worker")

R = TypeVar("R")


def observed(job: Callable[[dict[str, Any]], Awaitable[R]]) -> Callable[[dict[str, Any]], Awaitable[R]]:
    """Count the job's runs by outcome and time them (keyward_worker_jobs_total, ..._duration_seconds)."""
    name = job.__name__

    @functools.wraps(job)
    async def run(ctx: dict[str, Any]) -> R:
        started = time.perf_counter()
        try:
            result = await job(ctx)
        except BaseException:  # a failure, or arq's job timeout cancelling it
            metrics.WORKER_JOBS.labels(name, "failure").inc()
            raise
        finally:
            metrics.WORKER_JOB_DURATION.labels(name).observe(time.perf_counter() - started)
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
