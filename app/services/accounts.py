"""Accounts: sign-up, log-in and log-out, each opening or closing a session."""

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.clock import utcnow
from app.models import Membership, Session, User, Workspace
from app.security import tokens
from app.security.passwords import hash_password, verify_password
from app.security.permissions import ROLE_PERMISSIONS, WorkspaceRole
from app.security.principal import Principal, PrincipalKind
from app.security.tokens import TokenKind
from app.services import access, audit, login_throttle, signup_policy
from app.services.credential_state import REVOKED
from app.services.errors import NotFound, UserInputError
from app.services.password_policy import check_password
from app.services.row_locks import Lock, locked
from app.services.validation import clean_email, clean_name
from app.settings import get_settings


@dataclass
class SignedIn:
    session_token: str
    principal: Principal


async def open_session(
    membership: Membership, user: User, ip_address: str | None, *, opened_by: Principal | None = None
) -> SignedIn:
    """A new session for one membership; the membership becomes the person's most recently used one.
    NOT_FOUND when the membership was removed meanwhile.

    A session opened by another session (`opened_by`: switching or creating a workspace, accepting an
    invitation with the session as proof) ends when that one does: the TTL bounds how long a session lives
    without the password, and a new session of its own TTL each time would renew it for ever.
    """
    token = tokens.generate(TokenKind.SESSION)
    now = utcnow()
    expires_at = now + timedelta(hours=get_settings().session_ttl_hours)
    parent_id = opened_by.session_id if opened_by is not None else None
    async with in_transaction() as conn:
        if parent_id is not None:
            # Held until the new session is written, as the membership below: a log-out that committed first
            # leaves no session to open one with; one that comes after waits, then ends the new one with it.
            parent = await locked(
                Session.filter(REVOKED.passes_q(now), id=parent_id).using_db(conn).only("id", "expires_at"),
                Lock.CHANGE,
            ).first()
            if parent is None:
                raise UserInputError("This session ended meanwhile: log in again.", "REVOKED", None)
            expires_at = min(expires_at, parent.expires_at)
        # Held until the session is written: a removal that committed first leaves nothing to read (NOT_FOUND,
        # not a foreign key error); one that comes after waits, and its cascade then ends the new session too.
        if await locked(Membership.filter(id=membership.id).using_db(conn), Lock.CHANGE).first() is None:
            raise NotFound("Workspace", ("workspaceId",))
        session = await Session.create(
            token_hash=token.digest,
            membership=membership,
            expires_at=expires_at,
            ip_address=ip_address,
            opened_by_id=parent_id,
            using_db=conn,
        )
        await Membership.filter(id=membership.id).using_db(conn).update(last_seen_at=now)
    principal = Principal(
        kind=PrincipalKind.USER,
        workspace_id=membership.workspace_id,  # type: ignore[attr-defined]
        permissions=ROLE_PERMISSIONS[membership.role],
        role=membership.role,
        user_id=user.id,
        email=user.email,
        session_id=session.id,
        ip_address=ip_address,
    )
    return SignedIn(token.value, principal)


async def sign_up(email: str, password: str, workspace_name: str, ip_address: str | None) -> SignedIn:
    if not await signup_policy.sign_up_open():  # before any hashing; checked again under the lock below
        raise signup_policy.sign_up_closed()
    email = clean_email(email)
    name = clean_name(workspace_name, "workspaceName")
    await asyncio.to_thread(check_password, password, email)
    admission = await login_throttle.admit_sign_up(ip_address)
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        async with in_transaction() as conn:
            await signup_policy.admit_sign_up(conn)
            user = await User.create(email=email, password_hash=password_hash)
            workspace = await Workspace.create(name=name)
            membership = await Membership.create(workspace=workspace, user=user, role=WorkspaceRole.OWNER)
            signed_in = await open_session(membership, user, ip_address)
            await audit.record(signed_in.principal, "user.signed_up", "User", user.id)
            await audit.record(signed_in.principal, "workspace.created", "Workspace", workspace.id)
    except IntegrityError as exc:
        raise email_taken() from exc
    await admission.succeeded()
    await login_throttle.recognise_address(email, ip_address)
    return signed_in


def invalid_credentials() -> UserInputError:
    return UserInputError("Email or password is incorrect.", "INVALID_CREDENTIALS", ("password",))


async def most_recent_membership(user_id: int) -> Membership | None:
    """The membership the person used last (`logIn` opens it); the oldest when none was used yet."""
    memberships = await Membership.filter(user_id=user_id).order_by("id")
    if not memberships:
        return None
    return max(memberships, key=lambda m: (m.last_seen_at is not None, m.last_seen_at or m.created_at, -m.id))


def email_taken() -> UserInputError:
    return UserInputError("An account with this email already exists.", "EMAIL_TAKEN", ("email",))


async def log_in(email: str, password: str, ip_address: str | None) -> SignedIn:
    """Unknown email and wrong password take the same path: one count, one Argon2 verification, one message.

    The attempt is counted before the password is checked (login_throttle), so concurrent guesses
    cannot get past a budget that sequential ones would hit.
    """
    failed = invalid_credentials()
    try:
        email = clean_email(email)
    except UserInputError:
        await login_throttle.admit_log_in(None, ip_address)
        await asyncio.to_thread(verify_password, None, password)
        raise failed from None
    admission = await login_throttle.admit_log_in(email, ip_address)
    user = await User.get_or_none(email=email)
    # In a worker thread: one Argon2 verification holds the event loop for a quarter of a
    # second otherwise, stalling every other request of the process.
    if not await asyncio.to_thread(verify_password, user.password_hash if user else None, password) or user is None:
        if user is not None:
            membership = await Membership.filter(user=user).order_by("id").first()
            if membership is not None:
                failed_principal = Principal(
                    kind=PrincipalKind.USER,
                    workspace_id=membership.workspace_id,  # type: ignore[attr-defined]
                    user_id=user.id,
                    email=user.email,
                    ip_address=ip_address,
                )
                await audit.record(failed_principal, "user.log_in_failed", "User", user.id)
        raise failed
    await admission.succeeded()
    signed_in = await _open_most_recent(user, ip_address)
    await audit.record(signed_in.principal, "user.logged_in", "User", user.id)
    return signed_in


async def _open_most_recent(user: User, ip_address: str | None) -> SignedIn:
    """A session in the person's most recently used workspace; the next one when that one is removed meanwhile."""
    for _ in range(3):
        membership = await most_recent_membership(user.id)
        if membership is None:
            break
        try:
            return await open_session(membership, user, ip_address)
        except NotFound:
            continue
    raise UserInputError(
        "You no longer belong to any workspace: ask an admin for an invitation.", "NO_WORKSPACE", ("email",)
    )


async def log_out(principal: Principal) -> bool:
    if principal.session_id is None:
        return False
    updated = await access.session_ended(principal.session_id)
    if updated:
        await audit.record(principal, "user.logged_out", "User", principal.user_id)
    return bool(updated)
