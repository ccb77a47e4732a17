"""The API process's background loops (embedded sweep, webhook deliveries): a loop that dies says so
when it dies, and stopping them never raises, so the shutdown steps after them (the last usage
flush) always run."""

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

log = logging.getLogger("keyward")


def _report_end(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("background task %s stopped: %s: %s", task.get_name(), type(exc).__name__, exc)


def start(coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
    task = asyncio.create_task(coroutine, name=name)
    task.add_done_callback(_report_end)
    return task


async def stop(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel `tasks` and wait for them; their failures were logged when they happened."""
    running = list(tasks)
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
