"""The worker's metrics: its own HTTP server (KEYWARD_WORKER_METRICS_PORT) and the Redis buffer's gauges."""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from app import keyward_version
from app.observability import metrics
from app.observability.exposition import MetricsServer
from app.observability.usage_gauges import sample_every, sample_redis_buffer
from app.settings import Settings
from app.settings_errors import ConfigurationError

log = logging.getLogger("keyward.worker")


@dataclass
class WorkerMetrics:
    server: MetricsServer
    sampler: asyncio.Task[None] | None

    async def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sampler
        await asyncio.to_thread(self.server.stop)


def start(settings: Settings, ctx: dict[str, Any]) -> WorkerMetrics:
    """Listen on the metrics port and sample Redis. An address it cannot listen on (a port in use, a host that
    is no address of this machine) stops the worker with one line naming the settings."""
    host, port = settings.worker_metrics_host, settings.worker_metrics_port
    try:
        server = MetricsServer(host, port, settings.metrics_token, lambda: None).start()
    except OSError as exc:
        reason = exc.strerror or " ".join(str(exc).split())
        raise ConfigurationError(
            f"KEYWARD_WORKER_METRICS_HOST={host!r}, KEYWARD_WORKER_METRICS_PORT={port}: cannot listen there "
            f"for the worker's metrics ({reason})"
        ) from None
    metrics.BUILD_INFO.labels(keyward_version()).set(1)
    redis = ctx.get("usage_redis")
    sampler = asyncio.create_task(sample_every(lambda: sample_redis_buffer(redis))) if redis is not None else None
    log.info("worker: metrics at http://%s:%d/metrics", settings.worker_metrics_host, server.port)
    return WorkerMetrics(server, sampler)
