"""Worker jobs: plain async functions taking arq's `ctx`, idempotent, callable directly from tests.

`ctx` carries what `workers.context.startup` put there: `settings` and `usage` (the Redis usage
buffer); arq adds `job_id` and friends when it runs them.
"""

import logging
from datetime import timedelta
from typing import Any

from app.services.stale_sweep import SweepResult, run_sweep
from app.services.webhook_delivery import DeliveryConfig, delivery_round
from app.usage.flush import FlushResult, flush

log = logging.getLogger("keyward.worker")


async def flush_usage(ctx: dict[str, Any]) -> dict[str, int]:
    """Buffered uses → database. Safe to run concurrently and to re-run after a crash."""
    result: FlushResult = await flush(ctx["usage"])
    if result.uses:
        log.info(
            "flushed %d uses in %d batch(es), %d rows changed",
            result.uses,
            result.batches,
            result.rows_changed,
        )
    return {"uses": result.uses, "rows_changed": result.rows_changed, "batches": result.batches}


async def stale_sweep(ctx: dict[str, Any]) -> dict[str, Any]:
    """Flush first, so a token used seconds ago is not judged on an old `last_used_at`; then sweep.

    The sweep id is arq's job id: a cron tick retried after a crash writes nothing twice.
    """
    await flush_usage(ctx)
    result: SweepResult = await run_sweep(sweep_id=str(ctx.get("job_id") or "") or None)
    log.info(
        "stale sweep %s: %d stale, %d newly flagged, %d revoked, %d report(s)",
        result.sweep_id,
        result.stale,
        result.flagged,
        result.revoked,
        len(result.report_ids),
    )
    return {
        "sweep_id": result.sweep_id,
        "reports": len(result.report_ids),
        "stale": result.stale,
        "flagged": result.flagged,
        "revoked": result.revoked,
    }


async def deliver_webhooks(ctx: dict[str, Any]) -> dict[str, int]:
    """Send the due webhook deliveries (claims keep concurrent runs and workers from sending one twice)."""
    settings = ctx["settings"]
    config = ctx.get("webhook_delivery") or DeliveryConfig.from_settings(settings)
    result = await delivery_round(config, timedelta(days=settings.webhook_retention_days))
    return {"attempted": result.attempted, "delivered": result.delivered, "failed_attempts": result.failed_attempts}
