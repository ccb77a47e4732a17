"""POST /v1/keys/verify: what data-plane services call to check an API key."""

import orjson
from starlette.types import Receive, Scope, Send

from app.credentials.cache import Verified
from app.http.authentication import scope_client_ip
from app.observability.metrics import VERIFY_ANSWERS
from app.security import tokens
from app.security.tokens import TokenKind
from app.services.credential_state import Refusal

VERIFY_PATH = "/v1/keys/verify"

# Safe to show: none of them repeats any part of the value sent.
INVALID_MESSAGES = {
    "MALFORMED": "Not a Keyward API key (wrong shape or checksum).",
    "NOT_AN_API_KEY": "This endpoint checks API keys (kwk_); management tokens (kwm_) and session tokens "
    "(kws_) are for the Management API at /graphql.",
    "UNKNOWN_KEY": "The API key is unknown or has been deleted.",
    "IP_NOT_ALLOWED": "The API key is not allowed from this address: it is not in the key's IP allowlist.",
    "EXPIRED": "The API key has expired.",
}


# Each answer's counter child, bound once (a label lookup per request costs more than the increment).
_COUNTED = {code: VERIFY_ANSWERS.labels(code) for code in (*INVALID_MESSAGES, "BAD_REQUEST", "VALID")}
_INVALID_BODIES = {
    code: orjson.dumps({"valid": False, "code": code, "message": message}) for code, message in INVALID_MESSAGES.items()
}
_BAD_REQUEST_BODY = orjson.dumps({"valid": False, "code": "BAD_REQUEST", "message": 'Send JSON: {"key": "kwk_..."}.'})
_REFUSALS = {Refusal.IP_NOT_ALLOWED: "IP_NOT_ALLOWED", Refusal.EXPIRED: "EXPIRED"}


async def _body(receive: Receive) -> bytes:
    """The request body (`app.http.envelope` bounds its size)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, body: bytes, status: int = 200) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _invalid(send: Send, code: str) -> None:
    _COUNTED[code].inc()
    await _answer(send, _INVALID_BODIES[code])


async def _bad_request(send: Send) -> None:
    _COUNTED["BAD_REQUEST"].inc()
    await _answer(send, _BAD_REQUEST_BODY, 400)


class VerifyEndpoint:
    """No ORM, no GraphQL and no Starlette request or response objects: the token's shape and
    checksum, then the credential path (`app.credentials`). A plain ASGI app, so that the route
    calls it as it is."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            payload = orjson.loads(await _body(receive))
        except orjson.JSONDecodeError:
            return await _bad_request(send)
        key = payload.get("key") if isinstance(payload, dict) else None
        if not isinstance(key, str):
            return await _bad_request(send)
        try:
            parsed = tokens.parse(key)
        except tokens.MalformedToken:
            return await _invalid(send, "MALFORMED")
        if parsed.kind is not TokenKind.API_KEY:
            return await _invalid(send, "NOT_AN_API_KEY")
        # Valid: its use is recorded in the usage buffer (no database write here), flushed later.
        verified = await scope["app"].state.credentials.check(parsed, scope_client_ip(scope))
        if isinstance(verified, Refusal):
            return await _invalid(send, _REFUSALS.get(verified, "UNKNOWN_KEY"))
        if not isinstance(verified, Verified):
            return await _invalid(send, "UNKNOWN_KEY")
        _COUNTED["VALID"].inc()
        await _answer(send, verified.answer)


verify_key = VerifyEndpoint()
