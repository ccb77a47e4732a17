"""Projects of a workspace. Every lookup is scoped to the caller's workspace."""

from tortoise.transactions import in_transaction

from app.models import ApiKey, Project
from app.security.principal import Principal
from app.services import audit
from app.services.errors import NotFound, UserInputError
from app.services.pagination import Page, paginate
from app.services.validation import clean_description, clean_name


async def get_project(principal: Principal, project_id: int | None, field: tuple[str, ...] = ("id",)) -> Project:
    project = None
    if project_id is not None:
        project = await Project.get_or_none(id=project_id, workspace_id=principal.workspace_id)
    if project is None:
        raise NotFound("Project", field)
    return project


async def list_projects(principal: Principal, first: int | None, after: str | None) -> Page[Project]:
    return await paginate(Project.filter(workspace_id=principal.workspace_id), first, after, newest_first=False)


async def create_project(principal: Principal, name: str, description: str | None) -> Project:
    clean = clean_name(name)
    text = clean_description(description)
    async with in_transaction():
        project = await Project.create(workspace_id=principal.workspace_id, name=clean, description=text)
        await audit.record(principal, "project.created", "Project", project.id, details={"name": clean})
    return project


async def update_project(
    principal: Principal, project_id: int | None, name: str | None, description: str | None, *, set_description: bool
) -> Project:
    if name is None and not set_description:
        raise UserInputError("Nothing to update: give a name or a description.", "NOTHING_TO_UPDATE", None)
    clean = clean_name(name) if name is not None else None
    text = clean_description(description) if set_description else None
    async with in_transaction():
        project = await get_project(principal, project_id)
        changed: dict[str, str | None] = {}
        if clean is not None:
            project.name = changed["name"] = clean
        if set_description:
            project.description = changed["description"] = text
        await project.save()
        await audit.record(principal, "project.updated", "Project", project.id, details={"changed": sorted(changed)})
    return project


async def delete_project(principal: Principal, project_id: int | None) -> int:
    async with in_transaction():
        project = await get_project(principal, project_id)
        key_ids = await ApiKey.filter(project_id=project.id).values_list("id", flat=True)
        await project.delete()
        for key_id in key_ids:
            await audit.record(
                principal, "api_key.deleted", "ApiKey", key_id, details={"reason": "project deleted"}
            )
        await audit.record(
            principal, "project.deleted", "Project", project.id,
            details={"name": project.name, "deletedApiKeys": len(key_ids)},
        )
    return project.id
