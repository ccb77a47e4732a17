"""Keyset pagination by primary key: stable under inserts, one page query; the count only when asked for."""

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from app.services.errors import UserInputError


class Keyed(Protocol):
    @property
    def pk(self) -> Any: ...


T = TypeVar("T", bound=Keyed)
M = TypeVar("M", bound=Model)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "cursor:"


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{pk}".encode()).decode()


# A cursor is a primary key: a BIGINT, so 1 to 2**63 - 1; longer input is refused before decoding.
MAX_PK = 2**63 - 1
_MAX_CURSOR_LENGTH = 64
_PK_DIGITS = re.compile(r"[1-9][0-9]{0,18}")


def decode_cursor(cursor: str) -> int:
    """The primary key in a cursor, or a user error: anything else (a number past BIGINT included)
    would reach the database as a value it refuses."""
    if len(cursor) <= _MAX_CURSOR_LENGTH:
        try:
            raw = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeError, ValueError):
            raw = ""
        digits = raw.removeprefix(_CURSOR_PREFIX) if raw.startswith(_CURSOR_PREFIX) else ""
        if _PK_DIGITS.fullmatch(digits) and int(digits) <= MAX_PK:
            return int(digits)
    raise UserInputError(
        "Invalid cursor: use a cursor from this connection's pageInfo or edges.", "INVALID_CURSOR", ("after",)
    )


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise UserInputError(f"`first` must be between 0 and {MAX_PAGE_SIZE}.", "INVALID_PAGE_SIZE", ("first",))
    return first


@dataclass
class Page(Generic[T]):
    items: list[T]
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]
    """Builds and runs the count only when called: even building the query costs CPU on every request."""

    async def total_count(self) -> int:
        """A second query, run only for clients that select `totalCount` (automation mostly does not)."""
        return await self.count()

    def cursor(self, item: T) -> str:
        return encode_cursor(item.pk)


async def _no_rows() -> int:
    return 0


def empty_page(first: int | None, after: str | None) -> Page[Any]:
    """The page of a filter that matches nothing (an ID of another type, say): `first` and `after`
    are checked as a real page would check them."""
    page_size(first)
    if after is not None:
        decode_cursor(after)
    return Page([], False, after is not None, _no_rows)


async def paginate(query: QuerySet[M], first: int | None, after: str | None, *, newest_first: bool) -> Page[M]:
    limit = page_size(first)
    page_query = query
    if after is not None:
        pk = decode_cursor(after)
        page_query = page_query.filter(id__lt=pk) if newest_first else page_query.filter(id__gt=pk)
    rows = await page_query.order_by("-id" if newest_first else "id").limit(limit + 1)
    return Page(rows[:limit], len(rows) > limit, after is not None, query.count)
