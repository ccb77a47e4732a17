"""Data-plane API keys: created under a project, shown once, checked by hash."""

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from app.credentials.epoch import bump_revocation_epoch
from app.models import ApiKey
from app.security import ip_allowlist, tokens
from app.security.principal import Principal
from app.security.tokens import TokenKind
from app.services import audit, events
from app.services.actors import actor_of
from app.services.credential_state import CredentialKind
from app.services.errors import NotFound
from app.services.pagination import Page, paginate
from app.services.projects import get_project
from app.services.row_locks import Lock, locked
from app.services.validation import clean_allowed_ips, clean_name

API_KEY = CredentialKind.API_KEY


@dataclass
class CreatedApiKey:
    api_key: ApiKey
    secret: str


async def list_api_keys(principal: Principal, first: int | None, after: str | None) -> Page[ApiKey]:
    """Every key of the caller's workspace."""
    query = ApiKey.filter(workspace_id=principal.workspace_id)
    return await paginate(query, first, after, newest_first=True)


async def list_project_api_keys(
    principal: Principal, project_id: int, first: int | None, after: str | None
) -> Page[ApiKey]:
    """The keys of one project of the caller's workspace (none when the project is another workspace's)."""
    query = ApiKey.filter(workspace_id=principal.workspace_id, project_id=project_id)
    return await paginate(query, first, after, newest_first=True)


async def create_api_key(
    principal: Principal, project_id: int, name: str, *, allowed_ips: list[str] | None = None
) -> CreatedApiKey:
    clean = clean_name(name)
    allowlist = clean_allowed_ips(allowed_ips)
    actor = actor_of(principal)
    token = tokens.generate(TokenKind.API_KEY)
    async with in_transaction():
        # Locked against a concurrent deleteProject: the key is created before it (and deleted and
        # audited with the project) or the project is gone (NOT_FOUND), never a key under a deleted project.
        project = await get_project(principal, project_id, ("projectId",), lock=Lock.CHANGE)
        key = await ApiKey.create(
            workspace_id=principal.workspace_id,
            project=project,
            name=clean,
            key_prefix=token.display_prefix,
            key_hash=token.digest,
            allowed_ips=ip_allowlist.encode(allowlist),
            created_by_kind=actor.kind,
            created_by_id=actor.id,
            created_by_label=actor.label,
        )
        await audit.record(
            principal,
            "api_key.created",
            "ApiKey",
            key.id,
            details={
                "name": clean,
                "keyPrefix": key.key_prefix,
                "projectId": f"Project:{project.id}",
                "allowedIps": allowlist,
            },
        )
        await events.api_key_created(principal, key)
    return CreatedApiKey(key, token.value)


async def delete_api_key(principal: Principal, key_id: int) -> int:
    """Exactly one of concurrent deletes of a key (or of its project) deletes and audits it."""
    async with in_transaction():
        key = await locked(ApiKey.filter(id=key_id, workspace_id=principal.workspace_id), Lock.DELETE).first()
        if key is None:
            raise NotFound("API key")
        await ApiKey.filter(id=key.id).delete()
        await audit.record(
            principal, "api_key.deleted", "ApiKey", key.id, details={"name": key.name, "keyPrefix": key.key_prefix}
        )
        await events.api_key_deleted(principal, key)
    await bump_revocation_epoch()
    return key.id
