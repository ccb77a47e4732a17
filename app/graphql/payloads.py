"""A mutation's service call turned into its payload: input a person can fix becomes `userErrors`."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.graphql.types.common import UserError
from app.services.errors import UserInputError

P = TypeVar("P")
T = TypeVar("T")


async def run_mutation(
    payload: Callable[..., P], call: Callable[[], Awaitable[T]], present: Callable[[T], dict[str, Any]]
) -> P:
    """`payload(userErrors=[], **present(await call()))`, or the payload with the user error `call` raised.

    `call` decodes the input's IDs too (app.graphql.ids.require_pk), so an ID that names nothing of
    the caller's is a NOT_FOUND user error like any other.
    """
    try:
        result = await call()
    except UserInputError as error:
        return payload(user_errors=[UserError.from_exception(error)])
    return payload(user_errors=[], **present(result))
