"""POST /v1/keys/verify: what data-plane services call to check an API key."""

import orjson
from starlette.requests import Request
from starlette.responses import Response

from app.credentials.cache import Verified
from app.http.authentication import client_ip
from app.observability.metrics import VERIFY_ANSWERS
from app.security import tokens
from app.security.tokens import TokenKind
from app.services.credential_state import Refusal

# Safe to show: none of them repeats any part of the value sent.
INVALID_MESSAGES = {
    "MALFORMED": "Not a Keyward API key (wrong shape or checksum).",
    "NOT_AN_API_KEY": "This endpoint checks API keys (kwk_); management tokens (kwm_) and session tokens "
    "(kws_) are for the Management API at /graphql.",
    "UNKNOWN_KEY": "The API key is unknown or has been deleted.",
    "IP_NOT_ALLOWED": "The API key is not allowed from this address: it is not in the key's IP allowlist.",
    "EXPIRED": "The API key has expired.",
}


def _invalid(code: str) -> Response:
    VERIFY_ANSWERS.labels(code).inc()
    return _json({"valid": False, "code": code, "message": INVALID_MESSAGES[code]})


def _bad_request() -> Response:
    VERIFY_ANSWERS.labels("BAD_REQUEST").inc()
    return _json({"valid": False, "code": "BAD_REQUEST", "message": 'Send JSON: {"key": "kwk_..."}.'}, 400)


def _json(body: dict[str, object], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def verify_key(request: Request) -> Response:
    """No ORM and no GraphQL: the token's shape and checksum, then the credential path (`app.credentials`)."""
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return _bad_request()
    key = payload.get("key") if isinstance(payload, dict) else None
    if not isinstance(key, str):
        return _bad_request()
    try:
        parsed = tokens.parse(key)
    except tokens.MalformedToken:
        return _invalid("MALFORMED")
    if parsed.kind is not TokenKind.API_KEY:
        return _invalid("NOT_AN_API_KEY")
    # Valid: its use is recorded in the usage buffer (no database write here), flushed later.
    verified = await request.app.state.credentials.check(parsed, client_ip(request))
    if verified is Refusal.IP_NOT_ALLOWED:
        return _invalid("IP_NOT_ALLOWED")
    if verified is Refusal.EXPIRED:
        return _invalid("EXPIRED")
    if not isinstance(verified, Verified):
        return _invalid("UNKNOWN_KEY")
    VERIFY_ANSWERS.labels("VALID").inc()
    return Response(verified.answer, media_type="application/json")
