"""Keyset pagination by primary key: stable under inserts, one page query; the count only when asked for."""

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from app.services.errors import UserInputError


class Keyed(Protocol):
    @property
    def pk(self) -> int: ...


T = TypeVar("T", bound=Keyed)
M = TypeVar("M", bound=Model)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "cursor:"


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{pk}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if raw.startswith(_CURSOR_PREFIX):
            return int(raw[len(_CURSOR_PREFIX) :])
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise UserInputError("Invalid cursor.", "INVALID_CURSOR", ("after",))


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


async def paginate(query: QuerySet[M], first: int | None, after: str | None, *, newest_first: bool) -> Page[M]:
    limit = page_size(first)
    page_query = query
    if after is not None:
        pk = decode_cursor(after)
        page_query = page_query.filter(id__lt=pk) if newest_first else page_query.filter(id__gt=pk)
    rows = await page_query.order_by("-id" if newest_first else "id").limit(limit + 1)
    return Page(rows[:limit], len(rows) > limit, after is not None, query.count)
