"""Invitations: how a person joins a workspace. They replace accounts made by an admin.

An ADMIN (an OWNER, for the OWNER role) invites an email with a role. The `kwi_` token is stored
hashed and shown once: mailed to the person when KEYWARD_SMTP_URL is set (the inviter then never
sees it, so nobody can accept in the person's name), else returned to the inviter to pass on. It
expires (`invitation_ttl_days`) and is single-use. A new person sets their own password when
accepting; an existing account accepts while signed in as itself or by giving its password, and
joins without a new account. Accepting opens a session in the workspace.
"""

import asyncio
import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.clock import utcnow
from app.models import Invitation, Membership, User, Workspace
from app.security import tokens
from app.security.passwords import hash_password, verify_password
from app.security.permissions import WorkspaceRole
from app.security.principal import Principal, PrincipalKind
from app.security.tokens import TokenKind
from app.services import audit, events, login_throttle, mail
from app.services.accounts import SignedIn, invalid_credentials, open_session
from app.services.actors import actor_of
from app.services.errors import NotFound, UserErrorCode, UserInputError
from app.services.pagination import Page, paginate
from app.services.password_policy import check_password
from app.services.row_locks import Lock, locked
from app.services.validation import clean_email
from app.settings import get_settings

ACCEPT_PATH = "/#/accept-invitation/"


class InvitationStatus(enum.Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


def status_of(invitation: Invitation, now: datetime | None = None) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return InvitationStatus.ACCEPTED
    if invitation.revoked_at is not None:
        return InvitationStatus.REVOKED
    if invitation.expires_at <= (now or utcnow()):
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


def _status_filter(status: InvitationStatus, now: datetime) -> Q:
    if status is InvitationStatus.ACCEPTED:
        return Q(accepted_at__isnull=False)
    if status is InvitationStatus.REVOKED:
        return Q(revoked_at__isnull=False)
    open_ = Q(accepted_at__isnull=True, revoked_at__isnull=True)
    if status is InvitationStatus.EXPIRED:
        return open_ & Q(expires_at__lte=now)
    return open_ & Q(expires_at__gt=now)


def pending_q(now: datetime) -> Q:
    """Filter: the invitations that can still be accepted at `now`."""
    return _status_filter(InvitationStatus.PENDING, now)


async def list_invitations(
    principal: Principal, first: int | None, after: str | None, status: InvitationStatus | None
) -> Page[Invitation]:
    query = Invitation.filter(workspace_id=principal.workspace_id)
    if status is not None:
        query = query.filter(_status_filter(status, utcnow()))
    return await paginate(query, first, after, newest_first=True)


@dataclass
class Invited:
    invitation: Invitation
    token: str | None  # None when mailed: only the invited person ever sees it
    url: str | None
    mailed: bool


def invite_url(base_url: str, token: str) -> str:
    base = (get_settings().public_url or base_url).rstrip("/")
    return f"{base}{ACCEPT_PATH}{token}"


async def invite(principal: Principal, email: str, role: WorkspaceRole, base_url: str) -> Invited:
    """A new pending invitation; a pending one for the same email is revoked (the new link replaces it).

    With mail, the replacement waits until the new link is sent: a mail that fails leaves the person the link
    they have, not none. The replaced invitations are the older ones, so of two invitations mailed at once the
    newer stays.
    """
    if role is WorkspaceRole.OWNER and principal.role is not WorkspaceRole.OWNER:
        raise UserInputError("Only an owner can invite an owner.", "ROLE_NOT_ALLOWED", ("role",))
    clean = clean_email(email)
    token = tokens.generate(TokenKind.INVITATION)
    now = utcnow()
    actor = actor_of(principal)
    mailed = mail.mail_configured()
    async with in_transaction():
        workspace = await locked(Workspace.filter(id=principal.workspace_id), Lock.CHANGE).get()
        if await Membership.filter(workspace_id=workspace.id, user__email=clean).exists():
            raise UserInputError(f"{clean} is already a member of this workspace.", "ALREADY_MEMBER", ("email",))
        if (
            principal.role is not WorkspaceRole.OWNER
            and await _pending(workspace.id, clean, now).filter(role=WorkspaceRole.OWNER).exists()
        ):
            raise _owner_invitation_refused("replace")
        invitation = await Invitation.create(
            workspace_id=workspace.id,
            email=clean,
            role=role,
            token_hash=token.digest,
            expires_at=now + timedelta(days=get_settings().invitation_ttl_days),
            invited_by_kind=actor.kind,
            invited_by_id=actor.id,
            invited_by_label=actor.label,
        )
        if not mailed:
            await _replace_pending(principal, invitation)
    url = invite_url(base_url, token.value)
    if not mailed:
        return Invited(invitation, token.value, url, mailed=False)
    try:
        await mail.send_invitation(clean, workspace.name, actor.label, role.value, url, invitation.expires_at)
    except mail.MailNotSent:
        await Invitation.filter(id=invitation.id, accepted_at__isnull=True).update(revoked_at=utcnow())
        raise UserInputError(
            "The invitation email could not be sent (the SMTP server refused it or did not answer): try again.",
            "MAIL_NOT_SENT",
            ("email",),
        ) from None
    async with in_transaction():
        await locked(Workspace.filter(id=principal.workspace_id), Lock.CHANGE).get()
        await _replace_pending(principal, invitation)
    return Invited(invitation, None, None, mailed=True)


def _pending(workspace_id: int, email: str, now: datetime) -> QuerySet[Invitation]:
    return Invitation.filter(pending_q(now), workspace_id=workspace_id, email=email)


async def _replace_pending(principal: Principal, invitation: Invitation) -> None:
    """Revoke the pending invitations for the same email made before `invitation`, and audit its creation."""
    now = utcnow()
    older = _pending(invitation.workspace_id, invitation.email, now).filter(id__lt=invitation.id)  # type: ignore[attr-defined]
    replaced = await older.update(revoked_at=now)
    await audit.record(
        principal,
        "invitation.created",
        "Invitation",
        invitation.id,
        details={"email": invitation.email, "role": invitation.role.value, "replacedPending": replaced},
    )


async def revoke(principal: Principal, invitation_id: int) -> Invitation:
    async with in_transaction():
        invitation = await locked(
            Invitation.filter(id=invitation_id, workspace_id=principal.workspace_id), Lock.CHANGE
        ).first()
        if invitation is None:
            raise NotFound("Invitation")
        state = status_of(invitation)
        if state is not InvitationStatus.PENDING:
            raise UserInputError(f"The invitation is {state.value.lower()} already.", "NOT_PENDING", ("id",))
        if invitation.role is WorkspaceRole.OWNER and principal.role is not WorkspaceRole.OWNER:
            raise _owner_invitation_refused("revoke")
        invitation.revoked_at = utcnow()
        await invitation.save(update_fields=["revoked_at"])
        await audit.record(
            principal, "invitation.revoked", "Invitation", invitation.id, details={"email": invitation.email}
        )
    return invitation


def _owner_invitation_refused(verb: str) -> UserInputError:
    """Only an OWNER makes, changes or removes OWNERs (`app.services.members`): a pending OWNER invitation too."""
    field = "email" if verb == "replace" else "id"
    return UserInputError(f"Only an owner can {verb} an invitation to become an owner.", "ROLE_NOT_ALLOWED", (field,))


def _invalid_invitation() -> UserInputError:
    return UserInputError(
        "This invitation link is not valid: check that it was copied whole, or ask for a new invitation.",
        "INVALID_INVITATION",
        ("inviteToken",),
    )


def _not_pending(state: InvitationStatus) -> UserInputError:
    message = f"This invitation was {state.value.lower()}: ask for a new one."
    if state is InvitationStatus.ACCEPTED:
        return UserInputError(message, UserErrorCode.INVITATION_ACCEPTED, ("inviteToken",))
    if state is InvitationStatus.REVOKED:
        return UserInputError(message, UserErrorCode.INVITATION_REVOKED, ("inviteToken",))
    return UserInputError(message, UserErrorCode.INVITATION_EXPIRED, ("inviteToken",))


async def accept(caller: Principal, token_value: str, password: str | None, ip_address: str | None) -> SignedIn:
    try:
        parsed = tokens.parse(token_value.strip())
    except tokens.MalformedToken:
        raise _invalid_invitation() from None
    if parsed.kind is not TokenKind.INVITATION:
        raise _invalid_invitation()
    invitation = await Invitation.get_or_none(token_hash=parsed.digest)
    if invitation is None:
        raise _invalid_invitation()
    state = status_of(invitation)
    if state is not InvitationStatus.PENDING:
        raise _not_pending(state)
    user = await User.get_or_none(email=invitation.email)
    password_hash = None
    if user is not None:
        await _prove_account(caller, user, password, ip_address)
    else:
        if not password:
            raise UserInputError("Choose a password for your new account.", "PASSWORD_REQUIRED", ("password",))
        await asyncio.to_thread(check_password, password, invitation.email)
        password_hash = await asyncio.to_thread(hash_password, password)
    try:
        async with in_transaction():
            invitation = await locked(Invitation.filter(id=invitation.id), Lock.CHANGE).get()
            state = status_of(invitation)
            if state is not InvitationStatus.PENDING:
                raise _not_pending(state)
            if user is None:
                assert password_hash is not None
                user = await User.create(email=invitation.email, password_hash=password_hash)
            elif await Membership.filter(workspace_id=invitation.workspace_id, user_id=user.id).exists():  # type: ignore[attr-defined]
                raise UserInputError("You are a member of this workspace already.", "ALREADY_MEMBER", ("inviteToken",))
            membership = await Membership.create(
                workspace_id=invitation.workspace_id,  # type: ignore[attr-defined]
                user=user,
                role=invitation.role,
            )
            invitation.accepted_at = utcnow()
            await invitation.save(update_fields=["accepted_at"])
            # Joined on the strength of the caller's session (no password): the new session ends with it.
            by_session = caller.kind is PrincipalKind.USER and caller.user_id == user.id
            signed_in = await open_session(membership, user, ip_address, opened_by=caller if by_session else None)
            await audit.record(
                signed_in.principal,
                "invitation.accepted",
                "Invitation",
                invitation.id,
                details={"email": user.email, "role": invitation.role.value},
            )
            await events.member_changed(
                signed_in.principal,
                membership.workspace_id,  # type: ignore[attr-defined]
                user.id,
                user.email,
                invitation.role.value,
                "ADDED",
            )
    except IntegrityError:
        # The email got an account, or the account this membership, meanwhile: the invitation stays pending.
        raise UserInputError("Your account changed while accepting: try again.", "CONFLICT", ("inviteToken",)) from None
    await login_throttle.recognise_address(user.email, ip_address)
    return signed_in


async def _prove_account(caller: Principal, user: User, password: str | None, ip_address: str | None) -> None:
    """An existing account joins when its session calls, or with its password (counted as a log-in)."""
    if caller.kind is PrincipalKind.USER and caller.user_id == user.id:
        return
    if not password:
        raise UserInputError(
            "This email has an account: log in first, or give its password to accept.",
            "PASSWORD_REQUIRED",
            ("password",),
        )
    admission = await login_throttle.admit_log_in(user.email, ip_address)
    if not await asyncio.to_thread(verify_password, user.password_hash, password):
        raise invalid_credentials()
    await admission.succeeded()
