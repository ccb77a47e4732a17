"""Data-plane API keys: created under a project, shown once, checked by hash, rotated with grace."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.clock import utcnow
from app.credentials.epoch import bump_revocation_epoch
from app.models import ApiKey, Project
from app.security import ip_allowlist, tokens
from app.security.principal import Principal
from app.security.tokens import TokenKind
from app.services import audit, events
from app.services.actors import actor_of
from app.services.credential_state import CredentialKind, CredentialState, in_state_q, scope_q, state_of
from app.services.errors import NotFound, UserInputError
from app.services.expiry import grace_expiry, new_expiry, replacement_expiry
from app.services.key_meta import canonical_meta
from app.services.management_tokens import max_lifetime_days
from app.services.pagination import Page, paginate
from app.services.projects import get_project
from app.services.row_locks import Lock, locked
from app.services.validation import clean_allowed_ips, clean_name

API_KEY = CredentialKind.API_KEY


@dataclass
class CreatedApiKey:
    api_key: ApiKey
    secret: str


def _in_status(query: QuerySet[ApiKey], status: CredentialState | None) -> QuerySet[ApiKey]:
    return query if status is None else query.filter(in_state_q(API_KEY, status, utcnow()))


async def list_api_keys(
    principal: Principal, first: int | None, after: str | None, *, status: CredentialState | None = None
) -> Page[ApiKey]:
    """Every key of the caller's workspace (in its project scope; in `status`, when given)."""
    query = _in_status(
        ApiKey.filter(scope_q(principal.project_ids, "project_id"), workspace_id=principal.workspace_id), status
    )
    return await paginate(query, first, after, newest_first=True)


async def list_project_api_keys(
    principal: Principal,
    project_id: int,
    first: int | None,
    after: str | None,
    *,
    status: CredentialState | None = None,
) -> Page[ApiKey]:
    """The keys of one project of the caller's workspace (none when the project is another workspace's, or
    outside the caller's project scope)."""
    scope = scope_q(principal.project_ids, "project_id")
    query = _in_status(ApiKey.filter(scope, workspace_id=principal.workspace_id, project_id=project_id), status)
    return await paginate(query, first, after, newest_first=True)


async def _insert(
    principal: Principal,
    project_id: int,
    name: str,
    *,
    expires_at: datetime | None,
    meta: str | None,
    allowed_ips: str | None,
    replaces: ApiKey | None,
) -> CreatedApiKey:
    """Insert, audit and announce a key; the caller's transaction holds the project locked."""
    actor = actor_of(principal)
    token = tokens.generate(TokenKind.API_KEY)
    key = await ApiKey.create(
        workspace_id=principal.workspace_id,
        project_id=project_id,
        name=name,
        key_prefix=token.display_prefix,
        key_hash=token.digest,
        expires_at=expires_at,
        meta=meta,
        allowed_ips=allowed_ips,
        created_by_kind=actor.kind,
        created_by_id=actor.id,
        created_by_label=actor.label,
    )
    details: dict[str, Any] = {
        "name": name,
        "keyPrefix": key.key_prefix,
        "projectId": f"Project:{project_id}",
        "allowedIps": ip_allowlist.entries_of(allowed_ips),
        "expiresAt": expires_at.isoformat() if expires_at is not None else None,
    }
    if replaces is not None:
        details["replaces"] = f"ApiKey:{replaces.id}"
    await audit.record(principal, "api_key.created", "ApiKey", key.id, details=details)
    await events.api_key_created(principal, key)
    return CreatedApiKey(key, token.value)


async def create_api_key(
    principal: Principal,
    project_id: int,
    name: str,
    *,
    allowed_ips: list[str] | None = None,
    expires_at: datetime | None = None,
    meta: Any = None,
) -> CreatedApiKey:
    clean = clean_name(name)
    allowlist = clean_allowed_ips(allowed_ips)
    stored_meta = canonical_meta(meta)
    async with in_transaction():
        # Locked against a concurrent deleteProject: the key is created before it (and deleted and
        # audited with the project) or the project is gone (NOT_FOUND), never a key under a deleted project.
        project = await get_project(principal, project_id, ("projectId",), lock=Lock.CHANGE)
        expiry = new_expiry(expires_at, await max_lifetime_days(principal.workspace_id), utcnow())
        return await _insert(
            principal,
            project.id,
            clean,
            expires_at=expiry,
            meta=stored_meta,
            allowed_ips=ip_allowlist.encode(allowlist),
            replaces=None,
        )


async def rotate_api_key(principal: Principal, key_id: int, old_expires_at: datetime | None) -> CreatedApiKey:
    """A new key with the old one's name, project, metadata and allowlist; the old one stops at `old_expires_at`.

    Without `old_expires_at` the old key stays valid until it is deleted or expires. Keys are not
    linked as management tokens are: an API key can be rotated again, any number of times.
    """
    mine = ApiKey.filter(scope_q(principal.project_ids, "project_id"), id=key_id, workspace_id=principal.workspace_id)
    async with in_transaction():
        # The project first, then the key: the order deleteProject takes them in, and never a new
        # key under a project being deleted. A project deleted meanwhile took the key with it: the
        # key is then not found, as any deleted key is (the project is not what the caller named).
        project_ids = await mine.values_list("project_id", flat=True)
        if not project_ids:
            raise NotFound("API key")
        project_id: int = project_ids[0]  # type: ignore[assignment]
        await locked(Project.filter(id=project_id, workspace_id=principal.workspace_id), Lock.CHANGE)
        old = await locked(mine, Lock.CHANGE).first()
        if old is None:
            raise NotFound("API key")
        now = utcnow()
        if state_of(API_KEY, old, now) is CredentialState.EXPIRED:
            raise UserInputError("An expired API key cannot be rotated: create a new one.", "EXPIRED", ("id",))
        max_days = await max_lifetime_days(principal.workspace_id)
        expiry = replacement_expiry(old.created_at, old.expires_at, max_days, now)
        if old_expires_at is not None:
            old.expires_at = grace_expiry(old_expires_at, old.expires_at, now, "oldKeyExpiresAt")
            await ApiKey.filter(id=old.id).update(expires_at=old.expires_at)
        created = await _insert(
            principal,
            project_id,
            old.name,
            expires_at=expiry,
            meta=old.meta,
            allowed_ips=old.allowed_ips,
            replaces=old,
        )
        await audit.record(
            principal,
            "api_key.rotated",
            "ApiKey",
            old.id,
            details={
                "replacementId": f"ApiKey:{created.api_key.id}",
                "keyPrefix": created.api_key.key_prefix,
                "oldKeyExpiresAt": old.expires_at.isoformat() if old.expires_at is not None else None,
            },
        )
    await bump_revocation_epoch()  # the old key's expiry may have moved earlier
    return created


async def delete_api_key(principal: Principal, key_id: int) -> int:
    """Exactly one of concurrent deletes of a key (or of its project) deletes and audits it."""
    async with in_transaction():
        mine = ApiKey.filter(
            scope_q(principal.project_ids, "project_id"), id=key_id, workspace_id=principal.workspace_id
        )
        key = await locked(mine, Lock.DELETE).first()
        if key is None:
            raise NotFound("API key")
        await ApiKey.filter(id=key.id).delete()
        await audit.record(
            principal, "api_key.deleted", "ApiKey", key.id, details={"name": key.name, "keyPrefix": key.key_prefix}
        )
        await events.api_key_deleted(principal, key)
    await bump_revocation_epoch()
    return key.id
