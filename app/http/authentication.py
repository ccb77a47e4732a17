"""One place turns `Authorization: Bearer …` into a Principal (Starlette's authentication pattern)."""

import orjson
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Scope

from app.credentials.checker import CredentialChecker
from app.observability.metrics import AUTH_REFUSALS
from app.security.principal import ANONYMOUS, Principal
from app.services.authentication import AuthenticationFailed, authenticate
from app.usage.model import ip_or_none


def scope_client_ip(scope: Scope) -> str | None:
    """The client's address as an IP address, or None (unknown): where every client address enters.

    `scope["client"]` is the peer, or what a trusted proxy put in X-Forwarded-For (uvicorn's proxy
    headers middleware copies that without checking it is an address). Whatever is not an IP
    address is dropped here, so sessions, audit events, log-in budgets, usage and rate limits
    never see it.
    """
    client = scope.get("client")
    return ip_or_none(client[0]) if client else None


def client_ip(conn: HTTPConnection) -> str | None:
    """`scope_client_ip` of a Starlette connection."""
    return scope_client_ip(conn.scope)


class BearerTokenBackend(AuthenticationBackend):
    """No header: anonymous (public fields still work). A header that fails: 401 for the whole request.

    A management token takes the data plane's path (`app.credentials`): answered from the cache
    when nothing was revoked since, and recorded as used (time and client IP) in the usage buffer:
    at most one Redis round trip, never a database write on this path.
    """

    def __init__(self, credentials: CredentialChecker) -> None:
        self.credentials = credentials

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, Principal]:
        header = conn.headers.get("authorization")
        if header is None:
            return AuthCredentials(), Principal(kind=ANONYMOUS.kind, ip_address=client_ip(conn))
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            AUTH_REFUSALS.labels("not_bearer").inc()
            raise AuthenticationError("Use `Authorization: Bearer <token>`.")
        try:
            principal = await authenticate(value.strip(), client_ip(conn), self.credentials)
        except AuthenticationFailed as exc:
            AUTH_REFUSALS.labels(exc.reason).inc()
            raise AuthenticationError(str(exc)) from None
        return AuthCredentials([p.value for p in principal.permissions]), principal


def unauthenticated_response(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    body = {"data": None, "errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]}
    return Response(
        orjson.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="keyward"'},
    )
