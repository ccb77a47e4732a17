"""POST /v1/keys/verify: what data-plane services call to check an API key."""

import orjson
from starlette.requests import Request
from starlette.responses import Response

from app.graphql.ids import to_global_id
from app.http.authentication import client_ip
from app.observability.metrics import VERIFY_ANSWERS
from app.services import api_keys
from app.usage import UsageKind

# Safe to show: none of them repeats any part of the value sent.
INVALID_MESSAGES = {
    "MALFORMED": "Not a Keyward API key (wrong shape or checksum).",
    "NOT_AN_API_KEY": "This endpoint checks API keys (kwk_); management tokens (kwm_) and session tokens "
    "(kws_) are for the Management API at /graphql.",
    "UNKNOWN_KEY": "The API key is unknown or has been deleted.",
}


def _json(body: dict[str, object], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def verify_key(request: Request) -> Response:
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        VERIFY_ANSWERS.labels("BAD_REQUEST").inc()
        return _json({"valid": False, "code": "BAD_REQUEST", "message": 'Send JSON: {"key": "kwk_..."}.'}, 400)
    key = payload.get("key") if isinstance(payload, dict) else None
    if not isinstance(key, str):
        VERIFY_ANSWERS.labels("BAD_REQUEST").inc()
        return _json({"valid": False, "code": "BAD_REQUEST", "message": 'Send JSON: {"key": "kwk_..."}.'}, 400)
    result = await api_keys.verify(key)
    VERIFY_ANSWERS.labels("VALID" if result.valid else result.code or "INVALID").inc()
    if not result.valid:
        code = result.code or ""
        return _json(
            {
                "valid": False,
                "code": result.code,
                "message": INVALID_MESSAGES.get(code, f"The API key is {code.lower()}."),
            }
        )
    assert result.key_id and result.project_id and result.workspace_id
    # The key was used: into the usage buffer (no database write here), flushed later.
    await request.app.state.usage.record(UsageKind.API_KEY, result.key_id, client_ip(request))
    return _json(
        {
            "valid": True,
            "keyId": to_global_id("ApiKey", result.key_id),
            "projectId": to_global_id("Project", result.project_id),
            "workspaceId": to_global_id("Workspace", result.workspace_id),
        }
    )
