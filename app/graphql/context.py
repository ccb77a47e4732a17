"""Per-request context: the principal (authenticated once, by the middleware) and fresh DataLoaders."""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from app.models import ManagementToken, Project
from app.security.principal import ANONYMOUS, Principal


def _by_id_loader(model: Any, workspace_id: int | None) -> DataLoader[int, Any]:
    async def load(ids: list[int]) -> list[Any]:
        rows = {row.id: row for row in await model.filter(id__in=ids, workspace_id=workspace_id)}
        return [rows.get(pk) for pk in ids]

    return DataLoader(load_fn=load)


async def _load_replacements(ids: list[int]) -> list[ManagementToken | None]:
    rows = {row.replaces_id: row for row in await ManagementToken.filter(replaces_id__in=ids)}  # type: ignore[attr-defined]
    return [rows.get(pk) for pk in ids]


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    principal: Principal

    # Made on first use: most requests never need a loader.
    @cached_property
    def project_loader(self) -> DataLoader[int, Any]:
        return _by_id_loader(Project, self.principal.workspace_id)

    @cached_property
    def token_loader(self) -> DataLoader[int, Any]:
        return _by_id_loader(ManagementToken, self.principal.workspace_id)

    @cached_property
    def replacement_loader(self) -> DataLoader[int, ManagementToken | None]:
        return DataLoader(load_fn=_load_replacements)


def principal_of(request: Request | WebSocket) -> Principal:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else ANONYMOUS
