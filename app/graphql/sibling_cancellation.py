"""Cancelling sibling fields without orphaning coroutines graphql-core already created.

When one of several concurrent fields fails, graphql-core (3.3) cancels the others through
`graphql.pyutils.gather_with_cancel`. A field's work is a chain of coroutines built before any of
it runs: strawberry's resolver coroutine, handed to graphql-core's completion coroutine, wrapped in
a task. When that task is cancelled before its first step, the completion never starts, so the
resolver coroutine it holds is dropped unawaited, and Python reports ``coroutine '_async_resolver'
was never awaited`` for every such field. It happens when a failure and a freshly scheduled sibling
meet in the same turn of the event loop: rarely, and under load (the fuzz test met it in CI).

`gather_with_cancel` below keeps graphql-core's contract (the first failure is raised once every
sibling has settled) and adds one step: before cancelling, it lets the event loop run the siblings
that were scheduled but have not started, so that each cancellation lands on a coroutine that is
running and unwinds through every coroutine it awaits. A cancelled gather does the same, so the
rule holds at every depth of the result. Python 3.12's eager tasks would remove the window; this
service also runs on 3.11.

`install()` puts it where graphql-core's executor looks it up. It refuses to replace anything but
the version it was written against, so an upgrade that changes the executor fails loudly at start
(and in `tests/test_sibling_cancellation.py`) instead of silently running without it.
"""

from asyncio import Future, ensure_future, gather, shield, sleep
from collections.abc import Awaitable
from typing import Any

import graphql.execution.executor as graphql_executor
import graphql.pyutils as graphql_pyutils


async def gather_with_cancel(*awaitables: Awaitable[Any]) -> list[Any]:
    """Await all concurrently; on the first failure (or on being cancelled) cancel the rest, let them
    settle, and raise."""
    futures: list[Future[Any]] = [ensure_future(awaitable) for awaitable in awaitables]
    gathering = gather(*futures)
    try:
        # shield: being cancelled must not cancel the siblings before they have started (below).
        return await shield(gathering)
    except BaseException:
        try:
            # Siblings scheduled but not started run their first step before this task resumes.
            await sleep(0)
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()
            await gather(*futures, return_exceptions=True)
            if gathering.done() and not gathering.cancelled():
                gathering.exception()  # retrieved here: asyncio must not log it as never retrieved
        raise


def install() -> None:
    """Make graphql-core's executor cancel siblings through `gather_with_cancel` above (idempotent)."""
    current = graphql_executor.gather_with_cancel
    if current is gather_with_cancel:
        return
    if current is not graphql_pyutils.gather_with_cancel:
        raise RuntimeError(
            "graphql-core's executor no longer uses graphql.pyutils.gather_with_cancel; "
            "review app/graphql/sibling_cancellation.py against this graphql-core release"
        )
    graphql_executor.gather_with_cancel = gather_with_cancel  # type: ignore[assignment]
