"""Shapes shared by every part of the schema: Node, Relay connections, UserError, Actor."""

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from app.graphql.enums import ActorKindEnum, UserErrorCodeEnum
from app.graphql.ids import stored_ref_to_global_id
from app.services.actors import ActorKind
from app.services.errors import UserErrorCode, UserInputError
from app.services.pagination import Page

T = TypeVar("T")
R = TypeVar("R")


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    page: strawberry.Private[Page]  # type: ignore[type-arg]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.page.total_count()


def to_connection(page: Page, convert: Callable[[R], T]) -> Connection[T]:  # type: ignore[type-arg]
    edges = [Edge(cursor=page.cursor(row), node=convert(row)) for row in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        page=page,
    )


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


@strawberry.type(description="Who did something: a person (email), a management token (name and prefix) or the system.")
class Actor:
    kind: ActorKindEnum = strawberry.field(description="A person, a management token or the system.")  # type: ignore[valid-type]
    id: strawberry.ID | None = strawberry.field(description="The person (User) or token's ID; null for the system.")
    label: str = strawberry.field(description="Email, or token name and key prefix, as it was then.")

    @classmethod
    def from_record(cls, kind: str, ref: str | None, label: str) -> "Actor":
        return cls(kind=ActorKindEnum[ActorKind(kind).name], id=stored_ref_to_global_id(ref), label=label)
