"""Bearer authentication: the hot path that turns a token into a Principal.

One indexed lookup by the token's SHA-256, then the credential state model decides whether the
row may be used (app.services.credential_state). A bad shape or checksum never reaches the
database.
"""

from dataclasses import replace
from typing import TYPE_CHECKING

from app.clock import utcnow
from app.credentials.cache import Verified
from app.models import Session
from app.security import tokens
from app.security.permissions import ROLE_PERMISSIONS, WorkspaceRole
from app.security.principal import Principal, PrincipalKind
from app.security.tokens import TokenKind
from app.services.credential_state import CredentialKind, Refusal, usable_q

if TYPE_CHECKING:
    from app.credentials.checker import CredentialChecker


class AuthenticationFailed(Exception):
    """The credential is missing, malformed, unknown, expired or revoked. The message is safe to show;
    `reason` is a short fixed word for the metrics (`keyward_authentication_refusals_total`)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


async def authenticate(value: str, ip_address: str | None, credentials: "CredentialChecker") -> Principal:
    """One indexed lookup by SHA-256, or the cache; a bad shape or checksum never reaches the database.

    Management tokens take the data plane's path (`app.credentials`), which also records the use.
    """
    try:
        parsed = tokens.parse(value)
    except tokens.MalformedToken as exc:
        raise AuthenticationFailed("The bearer token is not a valid Keyward token.", "malformed") from exc
    if parsed.kind is TokenKind.API_KEY:
        raise AuthenticationFailed(
            "API keys (kwk_) are for data-plane services and cannot call the Management API: "
            "use a management token (kwm_) or a signed-in session.",
            "api_key",
        )
    if parsed.kind is TokenKind.MANAGEMENT:
        verified = await credentials.check(parsed, ip_address)
        if verified is Refusal.IP_NOT_ALLOWED:
            raise AuthenticationFailed(
                f"This management token is not allowed from your address ({ip_address or 'unknown'}): "
                "it is not in the token's IP allowlist.",
                "ip_not_allowed",
            )
        if verified is Refusal.EXPIRED:
            raise AuthenticationFailed("The management token has expired.", "expired_management_token")
        if not isinstance(verified, Verified) or verified.principal is None:
            raise AuthenticationFailed(
                "The management token is unknown or has been revoked.", "unknown_management_token"
            )
        return replace(verified.principal, ip_address=ip_address)
    if parsed.kind is TokenKind.INVITATION:
        raise AuthenticationFailed(
            "An invitation token (kwi_) is for `acceptInvitation`, not a bearer credential.", "invitation_token"
        )
    if parsed.kind is TokenKind.WEBHOOK_SIGNING_SECRET:
        raise AuthenticationFailed(
            "A webhook signing secret (kwh_) signs webhook deliveries and cannot call the API.", "webhook_secret"
        )
    return await _authenticate_session(parsed, ip_address)


async def _authenticate_session(parsed: tokens.ParsedToken, ip_address: str | None) -> Principal:
    row = await Session.filter(usable_q(CredentialKind.SESSION, utcnow()), token_hash=parsed.digest).values(
        "id", "membership__workspace_id", "membership__role", "membership__user_id", "membership__user__email"
    )
    if not row:
        raise AuthenticationFailed("The session is unknown, expired or logged out: log in again.", "unknown_session")
    session = row[0]
    role = WorkspaceRole(session["membership__role"])
    return Principal(
        kind=PrincipalKind.USER,
        workspace_id=session["membership__workspace_id"],
        permissions=ROLE_PERMISSIONS[role],
        role=role,
        user_id=session["membership__user_id"],
        email=session["membership__user__email"],
        session_id=session["id"],
        ip_address=ip_address,
    )
