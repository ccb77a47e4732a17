"""Bearer authentication: the hot path that turns a token into a Principal.

One indexed lookup by the token's SHA-256, then the credential state model decides whether the
row may be used (app.services.credential_state). A bad shape or checksum never reaches the
database.
"""

from tortoise.connection import get_connection

from app.clock import utcnow
from app.models import Session
from app.security import tokens
from app.security.permissions import ROLE_PERMISSIONS, WorkspaceRole, decode_permissions
from app.security.principal import Principal, PrincipalKind
from app.security.tokens import TokenKind
from app.services.credential_state import CredentialKind, is_usable, usable_q
from app.sql_dialect import statement


class AuthenticationFailed(Exception):
    """The credential is missing, malformed, unknown, expired or revoked. The message is safe to show;
    `reason` is a short fixed word for the metrics (`keyward_authentication_refusals_total`)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def token_label(name: str, key_prefix: str) -> str:
    return f"{name} ({key_prefix}…)"


async def authenticate(value: str, ip_address: str | None) -> Principal:
    """One indexed lookup by SHA-256; a bad shape or checksum never reaches the database."""
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
        return await _authenticate_management_token(parsed, ip_address)
    if parsed.kind is TokenKind.INVITATION:
        raise AuthenticationFailed(
            "An invitation token (kwi_) is for `acceptInvitation`, not a bearer credential.", "invitation_token"
        )
    if parsed.kind is TokenKind.WEBHOOK_SIGNING_SECRET:
        raise AuthenticationFailed(
            "A webhook signing secret (kwh_) signs webhook deliveries and cannot call the API.", "webhook_secret"
        )
    return await _authenticate_session(parsed, ip_address)


MANAGEMENT_TOKEN = CredentialKind.MANAGEMENT_TOKEN

# The one query every management-token request pays, written by hand: building it with the query
# builder cost more CPU than running it. It reads the columns the state model's rules judge.
_TOKEN_LOOKUP = statement(
    lambda d: (
        "SELECT id, workspace_id, name, key_prefix, permissions"  # noqa: S608
        + "".join(f", {column}" for column in MANAGEMENT_TOKEN.columns)
        + f" FROM management_token WHERE token_hash = {d.param(1)}"
    )
)


async def _authenticate_management_token(parsed: tokens.ParsedToken, ip_address: str | None) -> Principal:
    conn = get_connection("default")
    rows = await conn.execute_query_dict(_TOKEN_LOOKUP(conn), [parsed.digest])
    if not rows or not is_usable(MANAGEMENT_TOKEN, rows[0], utcnow()):
        raise AuthenticationFailed("The management token is unknown or has been revoked.", "unknown_management_token")
    token = rows[0]
    return Principal(
        kind=PrincipalKind.MANAGEMENT_TOKEN,
        workspace_id=token["workspace_id"],
        permissions=decode_permissions(token["permissions"]),
        token_id=token["id"],
        token_label=token_label(token["name"], token["key_prefix"]),
        ip_address=ip_address,
    )


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
