"""When one field fails, graphql-core cancels its concurrent siblings; no coroutine it built for them
may be dropped unawaited (app/graphql/sibling_cancellation.py).

The schema here is a small one whose resolvers yield to the event loop a chosen number of times, so
that a failure and a freshly scheduled sibling meet in the same turn of the loop, as they did at
random in the fuzz test (`coroutine '_async_resolver' was never awaited`). Every combination of
delays is run; with graphql-core's own `gather_with_cancel` dozens of them orphan coroutines.
"""

import asyncio
import gc
import itertools
import warnings
from collections.abc import Iterator
from typing import Any

import graphql.execution.executor as graphql_executor
import graphql.pyutils as graphql_pyutils
import pytest
import strawberry

from app.graphql import sibling_cancellation
from app.graphql.schema import schema as keyward_schema

DELAYS = range(5)
QUERIES = [
    "{ items { boom child { value other } } }",
    "{ items { child { value other } boom } }",
    "{ items { children { value other } boom child { other } } }",
]


async def _yield_to_the_loop(times: int) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


def _schema(fail_after: int, child_after: int, value_after: int) -> "_QuietSchema":
    @strawberry.type
    class Child:
        @strawberry.field
        async def value(self) -> str | None:
            await _yield_to_the_loop(value_after)
            return "v"

        @strawberry.field
        async def other(self) -> str | None:
            return "o"

    @strawberry.type
    class Item:
        n: int

        @strawberry.field
        async def boom(self) -> str:
            await _yield_to_the_loop(fail_after)
            if self.n == 0:
                raise ValueError("boom")
            return "ok"

        @strawberry.field
        async def child(self) -> Child | None:
            await _yield_to_the_loop(child_after)
            return Child()

        @strawberry.field
        async def children(self) -> list[Child] | None:
            await _yield_to_the_loop(child_after)
            return [Child(), Child()]

    @strawberry.type
    class Query:
        @strawberry.field
        def items(self) -> list[Item] | None:
            return [Item(n=0), Item(n=1), Item(n=2)]

    return _QuietSchema(query=Query)


class _QuietSchema(strawberry.Schema):
    """Logs nothing: a logged error keeps its traceback, and with it the coroutines under test, alive
    (pytest holds every record until the test ends), so they would be collected after the check."""

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        pass


async def _orphans_and_answers() -> tuple[list[str], set[Any]]:
    """Run every combination; the 'never awaited' warnings and asyncio's logged errors, and the answers."""
    loop = asyncio.get_running_loop()
    logged: list[str] = []
    loop.set_exception_handler(lambda _loop, context: logged.append(context["message"]))
    answers = set()
    for fail_after, child_after, value_after in itertools.product(DELAYS, DELAYS, range(3)):
        schema = _schema(fail_after, child_after, value_after)
        for query in QUERIES:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = await schema.execute(query)
                answers.add((repr(result.data), tuple(e.message for e in result.errors or [])))
                del result
                await _yield_to_the_loop(20)
                gc.collect()
            logged.extend(str(w.message) for w in caught if "never awaited" in str(w.message))
    return logged, answers


@pytest.fixture
def graphql_cores_own_gather() -> Iterator[None]:
    graphql_executor.gather_with_cancel = graphql_pyutils.gather_with_cancel  # type: ignore[assignment]
    try:
        yield
    finally:
        sibling_cancellation.install()


def test_the_service_cancels_siblings_through_its_own_gather() -> None:
    assert keyward_schema is not None
    assert graphql_executor.gather_with_cancel is sibling_cancellation.gather_with_cancel


def test_no_coroutine_is_orphaned_when_a_sibling_fails_in_the_same_turn() -> None:
    # given: the service's gather, installed with the schema
    # when
    orphans, answers = asyncio.run(_orphans_and_answers())
    # then: nothing dropped unawaited, nothing logged, and every run answers as graphql-core would
    assert orphans == []
    assert answers == {("{'items': None}", ("boom",))}


def test_graphql_cores_own_gather_orphans_them(graphql_cores_own_gather: None) -> None:
    """The scenario above is real: if this fails, graphql-core fixed it and the module can go."""
    orphans, answers = asyncio.run(_orphans_and_answers())
    assert any("_async_resolver' was never awaited" in message for message in orphans), orphans[:3]
    assert answers == {("{'items': None}", ("boom",))}


def test_a_cancelled_execution_orphans_nothing() -> None:
    async def cancel_after(turns: int) -> list[str]:
        schema = _schema(fail_after=4, child_after=1, value_after=1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            task = asyncio.ensure_future(schema.execute(QUERIES[2]))
            await _yield_to_the_loop(turns)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await _yield_to_the_loop(20)
            gc.collect()
        return [str(w.message) for w in caught if "never awaited" in str(w.message)]

    for turns in range(1, 8):
        assert asyncio.run(cancel_after(turns)) == [], turns


def test_install_refuses_an_executor_it_was_not_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    async def someone_elses_gather(*awaitables: Any) -> list[Any]:
        return list(await asyncio.gather(*awaitables))

    monkeypatch.setattr(graphql_executor, "gather_with_cancel", someone_elses_gather)
    with pytest.raises(RuntimeError, match="review app/graphql/sibling_cancellation.py"):
        sibling_cancellation.install()
