"""Projects of a workspace. Every lookup is scoped to the caller's workspace."""

from datetime import datetime
from typing import Any, NamedTuple

from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from app.credentials.epoch import bump_revocation_epoch
from app.models import ApiKey, ManagementToken, Project
from app.security.principal import Principal
from app.security.project_scope import decode_scope, encode_scope
from app.services import audit, events
from app.services.credential_state import scope_q, scope_sql
from app.services.errors import NotFound, UserInputError
from app.services.pagination import Page, decode_cursor, page_size
from app.services.row_locks import Lock, locked
from app.services.validation import clean_description, clean_name
from app.sql_dialect import read_time, statement


async def get_project(
    principal: Principal, project_id: int, field: tuple[str, ...] = ("id",), *, lock: Lock | None = None
) -> Project:
    """The caller's project, in its scope; with `lock`, read inside the caller's transaction (row_locks)."""
    mine = Project.filter(scope_q(principal.project_ids), id=project_id, workspace_id=principal.workspace_id)
    project = await locked(mine, lock).first()
    if project is None:
        raise NotFound("Project", field)
    return project


async def projects_by_id(principal: Principal, ids: list[int]) -> dict[int, Project]:
    """The caller's projects (in its scope) among `ids` (for batched loads)."""
    rows = await Project.filter(scope_q(principal.project_ids), id__in=ids, workspace_id=principal.workspace_id)
    return {row.id: row for row in rows}


class ProjectRow(NamedTuple):
    """A project as a page of the list reads it.

    Listing projects is what automation does most. The page is one hand-written keyset query read
    into these rows: building the query and 20 ORM models cost more CPU than the query itself (and
    a tuple is built in half the time of a frozen dataclass).
    """

    id: int
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def pk(self) -> int:
        return self.id


_PAGE = statement(
    lambda d: (
        "SELECT id, name, description, created_at, updated_at FROM project "  # noqa: S608
        f"WHERE workspace_id = {d.param(1)} AND id > {d.param(2)} ORDER BY id LIMIT {d.param(3)}"
    )
)


def _scoped_page(scope: frozenset[int]) -> Any:
    """The page statement for a token limited to `scope` (built per call: the ids are part of it)."""
    return statement(
        lambda d: (
            "SELECT id, name, description, created_at, updated_at FROM project "  # noqa: S608
            f"WHERE workspace_id = {d.param(1)} AND id > {d.param(2)} AND {scope_sql(scope, 'id')} "
            f"ORDER BY id LIMIT {d.param(3)}"
        )
    )


def _time(value: datetime | str) -> datetime:
    at = read_time(value)
    assert at is not None  # both columns are NOT NULL
    return at


async def list_projects(principal: Principal, first: int | None, after: str | None) -> Page[ProjectRow]:
    """Oldest first, keyset by id (as `paginate`, without the ORM on the page query)."""
    limit = page_size(first)
    after_id = decode_cursor(after) if after is not None else 0
    conn = get_connection("default")
    scope = principal.project_ids
    page = _PAGE if scope is None else _scoped_page(scope)
    _, rows = await conn.execute_query(page(conn), [principal.workspace_id, after_id, limit + 1])
    items = [
        ProjectRow(r["id"], r["name"], r["description"], _time(r["created_at"]), _time(r["updated_at"]))
        for r in rows[:limit]
    ]
    workspace_id = principal.workspace_id
    return Page(
        items,
        len(rows) > limit,
        after is not None,
        lambda: Project.filter(scope_q(scope), workspace_id=workspace_id).count(),
    )


async def create_project(principal: Principal, name: str, description: str | None) -> Project:
    clean = clean_name(name)
    text = clean_description(description)
    async with in_transaction():
        project = await Project.create(workspace_id=principal.workspace_id, name=clean, description=text)
        await audit.record(principal, "project.created", "Project", project.id, details={"name": clean})
    return project


async def update_project(
    principal: Principal, project_id: int, name: str | None, description: str | None, *, set_description: bool
) -> Project:
    if name is None and not set_description:
        raise UserInputError("Nothing to update: give a name or a description.", "NOTHING_TO_UPDATE", None)
    clean = clean_name(name) if name is not None else None
    text = clean_description(description) if set_description else None
    async with in_transaction():
        project = await get_project(principal, project_id, lock=Lock.CHANGE)
        changed: dict[str, str | None] = {}
        if clean is not None:
            project.name = changed["name"] = clean
        if set_description:
            project.description = changed["description"] = text  # type: ignore[assignment]  # nullable column
        await project.save()
        await audit.record(principal, "project.updated", "Project", project.id, details={"changed": sorted(changed)})
    return project


async def delete_project(principal: Principal, project_id: int) -> int:
    """Deletes the project and its keys, auditing each exactly once.

    Locked first, the project waits for key creations already under way (they are deleted and
    audited with it) and keeps new ones out (they answer NOT_FOUND); a concurrent delete of the
    same project finds nothing once this one commits. The keys are locked too: a concurrent
    `deleteApiKey` either deleted and audited a key before (it is not listed here) or finds it gone.
    """
    async with in_transaction():
        project = await get_project(principal, project_id, lock=Lock.DELETE)
        keys = await locked(ApiKey.filter(project_id=project.id).order_by("id"), Lock.DELETE)
        await Project.filter(id=project.id).delete()  # the keys go with it (ON DELETE CASCADE)
        await _leave_scopes(project)
        for key in keys:
            await audit.record(
                principal,
                "api_key.deleted",
                "ApiKey",
                key.id,
                details={"name": key.name, "keyPrefix": key.key_prefix, "reason": "project deleted"},
            )
        await events.api_keys_deleted(principal, project.workspace_id, keys, reason="project deleted")  # type: ignore[attr-defined]
        await audit.record(
            principal,
            "project.deleted",
            "Project",
            project.id,
            details={"name": project.name, "deletedApiKeys": len(keys)},
        )
    await bump_revocation_epoch()  # its keys went with it, and it left the scopes of tokens
    return project.id


async def _leave_scopes(project: Project) -> None:
    """Remove the project from every token scope that names it; a scope it empties stays empty (no project)."""
    scoped = ManagementToken.filter(workspace_id=project.workspace_id, project_ids__isnull=False)  # type: ignore[attr-defined]
    for token in await locked(scoped, Lock.CHANGE):
        scope = decode_scope(token.project_ids)
        if scope is not None and project.id in scope:
            await ManagementToken.filter(id=token.id).update(project_ids=encode_scope(scope - {project.id}))
