"""Shapes shared by every part of the schema: Node, Relay connections, UserError, Actor."""

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from app.graphql.enums import ActorKindEnum, UserErrorCodeEnum
from app.graphql.ids import stored_ref_to_global_id
from app.services.actors import ActorKind
from app.services.errors import UserErrorCode, UserInputError
from app.services.pagination import Page

T = TypeVar("T")
R = TypeVar("R")


# Arguments every connection field takes.
First = Annotated[int | None, strawberry.argument(description="How many to return: 0 to 100, 20 when left out.")]
After = Annotated[
    str | None, strawberry.argument(description="Continue after this cursor (pageInfo.endCursor of the last page).")
]


def node_id() -> Any:
    """The `id` field of a Node type (a field object is made per type)."""
    return strawberry.field(description="Opaque global ID: pass it to node(id:) or to mutations.")


def user_errors() -> Any:
    """The `userErrors` field of a mutation payload."""
    return strawberry.field(description="Input a person can fix; empty when the mutation succeeded.")


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global ID: pass it to node(id:) or to mutations.")


@strawberry.type(description="Where a page sits in its connection.")
class PageInfo:
    """Read from the page when selected: building it costs nothing for clients that ask for nodes only."""

    page: strawberry.Private[Page]  # type: ignore[type-arg]

    @strawberry.field(description="More items follow: ask again with after: endCursor.")
    def has_next_page(self) -> bool:
        return self.page.has_next_page

    @strawberry.field(description="This page was asked for with `after`.")
    def has_previous_page(self) -> bool:
        return self.page.has_previous_page

    @strawberry.field(description="The first item's cursor; null on an empty page.")
    def start_cursor(self) -> str | None:
        items = self.page.items
        return self.page.cursor(items[0]) if items else None

    @strawberry.field(description="The last item's cursor; null on an empty page.")
    def end_cursor(self) -> str | None:
        items = self.page.items
        return self.page.cursor(items[-1]) if items else None


@strawberry.type(description="One item of a page, with the cursor that points at it.")
class Edge(Generic[T]):
    """The cursor is encoded only when a client selects it (most ask for the nodes alone)."""

    cursor: str = strawberry.field(
        resolver=lambda root: root.page.cursor(root.item),  # a method would move the field after `node`
        description="Pass it as `after` to continue after this item.",
    )
    node: T = strawberry.field(description="The item.")
    item: strawberry.Private[Any]
    page: strawberry.Private[Page]  # type: ignore[type-arg]


@strawberry.type(description="A page of items (Relay cursor connection).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, each with its cursor.")
    page: strawberry.Private[Page]  # type: ignore[type-arg]

    @strawberry.field(description="Whether more pages follow, and the cursors to ask for them.")
    def page_info(self) -> PageInfo:
        return PageInfo(page=self.page)

    @strawberry.field(description="How many items all pages hold together (one more query: ask only when needed).")
    async def total_count(self) -> int:
        return await self.page.total_count()


def to_connection(page: Page, convert: Callable[[R], T]) -> Connection[T]:  # type: ignore[type-arg]
    return Connection(edges=[Edge(node=convert(row), item=row, page=page) for row in page.items], page=page)


@strawberry.type(description="Input a person can fix. `field` is the path inside the mutation's input.")
class UserError:
    field: list[str] | None = strawberry.field(description="The path of the input field at fault; null: all of it.")
    message: str = strawberry.field(description="What is wrong and how to fix it, in words a person can read.")
    code: UserErrorCodeEnum = strawberry.field(description="What is wrong, for programs.")  # type: ignore[valid-type]

    @classmethod
    def from_exception(cls, error: UserInputError) -> "UserError":
        return cls(
            field=list(error.field) if error.field else None,
            message=error.message,
            code=UserErrorCodeEnum[UserErrorCode(error.code).name],
        )


ALLOWED_IPS_DESCRIPTION = (
    "IPv4 and IPv6 addresses and CIDR ranges (at most 100) the credential may be used from, judged against "
    "the client address after the trusted-proxy rules; null or []: any address. A range with host bits set "
    "(10.0.0.5/24) is refused."
)


@strawberry.type(description="Who did something: a person (email), a management token (name and prefix) or the system.")
class Actor:
    kind: ActorKindEnum = strawberry.field(description="A person, a management token or the system.")  # type: ignore[valid-type]
    id: strawberry.ID | None = strawberry.field(description="The person (User) or token's ID; null for the system.")
    label: str = strawberry.field(description="Email, or token name and key prefix, as it was then.")

    @classmethod
    def from_record(cls, kind: str, ref: str | None, label: str) -> "Actor":
        return cls(kind=ActorKindEnum[ActorKind(kind).name], id=stored_ref_to_global_id(ref), label=label)
