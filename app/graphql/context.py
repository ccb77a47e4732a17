"""Per-request context: the principal (authenticated once, by the middleware) and fresh DataLoaders."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from app.security.principal import ANONYMOUS, Principal
from app.services import management_tokens, projects
from app.services.records import ManagementTokenRecord, ProjectRecord

K = TypeVar("K")
V = TypeVar("V")


def _loader(
    principal: Principal, fetch: Callable[[Principal, list[K]], Awaitable[dict[K, V]]]
) -> DataLoader[K, V | None]:
    """A DataLoader over a service's batch read scoped to the caller's workspace; missing keys load None."""

    async def load(keys: list[K]) -> list[V | None]:
        found = await fetch(principal, keys)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    principal: Principal

    # Made on first use: most requests never need a loader.
    @cached_property
    def project_loader(self) -> DataLoader[int, ProjectRecord | None]:
        return _loader(self.principal, projects.projects_by_id)

    @cached_property
    def token_loader(self) -> DataLoader[int, ManagementTokenRecord | None]:
        return _loader(self.principal, management_tokens.tokens_by_id)

    @cached_property
    def replacement_loader(self) -> DataLoader[int, ManagementTokenRecord | None]:
        return _loader(self.principal, management_tokens.replacements_by_replaced_id)


def principal_of(request: Request | WebSocket) -> Principal:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else ANONYMOUS
