"""The OpenAPI 3.1 description of the REST endpoints, served at GET /openapi.json.

GraphQL describes itself (the committed SDL, introspection); this covers the rest: key verification
for data-plane services and the probes for orchestrators. Each endpoint's path item is one constant
below; ``tests/test_openapi.py`` validates the document and checks real answers against it, so a
change of an endpoint's answers must change its constant too.
"""

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

JSON = "application/json"


def _json(schema_name: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }
    if headers:
        response["headers"] = headers
    return response


SCHEMAS: dict[str, Any] = {
    "VerifyRequest": {
        "type": "object",
        "required": ["key"],
        "properties": {
            "key": {"type": "string", "description": "The API key to check (kwk_…).", "examples": ["kwk_…"]}
        },
    },
    "VerifyValid": {
        "type": "object",
        "description": "The key exists: its use is recorded (last used at, from the client's address).",
        "required": ["valid", "keyId", "projectId", "workspaceId", "expiresAt", "meta"],
        "additionalProperties": False,
        "properties": {
            "valid": {"const": True},
            "keyId": {"type": "string", "description": "The key's GraphQL ID (ApiKey)."},
            "projectId": {"type": "string", "description": "Its project's GraphQL ID."},
            "workspaceId": {"type": "string", "description": "Its workspace's GraphQL ID."},
            "expiresAt": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "When the key stops being valid (ISO 8601, UTC); null: it never expires.",
            },
            "meta": {
                "type": ["object", "null"],
                "description": "The JSON object stored with the key (createApiKey's meta, at most 4 KB); null: none.",
            },
        },
    },
    "VerifyInvalid": {
        "type": "object",
        "description": "The key is refused. The message never repeats any part of the value sent.",
        "required": ["valid", "code", "message"],
        "additionalProperties": False,
        "properties": {
            "valid": {"const": False},
            "code": {
                "type": "string",
                "enum": ["MALFORMED", "NOT_AN_API_KEY", "UNKNOWN_KEY", "IP_NOT_ALLOWED", "EXPIRED"],
                "description": (
                    "MALFORMED: not the shape or checksum of a Keyward token (refused before any database "
                    "query). NOT_AN_API_KEY: a management (kwm_) or session (kws_) token, which belong on "
                    "/graphql. UNKNOWN_KEY: no such key, or it was deleted (with its project, too). "
                    "IP_NOT_ALLOWED: the key's IP allowlist does not hold the client address of the request "
                    "(after the trusted-proxy rules). EXPIRED: the key exists but its expiresAt has passed."
                ),
            },
            "message": {"type": "string"},
        },
    },
    "VerifyBadRequest": {
        "type": "object",
        "description": 'The body is not JSON of the form {"key": "…"}.',
        "required": ["valid", "code", "message"],
        "additionalProperties": False,
        "properties": {"valid": {"const": False}, "code": {"const": "BAD_REQUEST"}, "message": {"type": "string"}},
    },
    "ErrorResponse": {
        "type": "object",
        "description": (
            "A refusal made before the endpoint runs (body too large, database unreachable), in the "
            "shape the GraphQL endpoint uses for request errors."
        ),
        "required": ["errors"],
        "properties": {
            "data": {"type": "null"},
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["message", "extensions"],
                    "properties": {
                        "message": {"type": "string"},
                        "extensions": {
                            "type": "object",
                            "required": ["code"],
                            "properties": {
                                "code": {"type": "string", "examples": ["PAYLOAD_TOO_LARGE", "UNAVAILABLE"]}
                            },
                        },
                    },
                },
            },
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"const": "ok"}},
    },
    "Readiness": {
        "type": "object",
        "description": "What the process depends on, and whether it answers (asked afresh, within a second).",
        "required": ["status", "database", "redis"],
        "additionalProperties": False,
        "properties": {
            "status": {
                "type": "string",
                "enum": ["ok", "degraded", "unavailable"],
                "description": (
                    "unavailable (503): the database does not answer. degraded (200): Redis does not, and "
                    "every request is still served (uses are kept in process until Redis is back)."
                ),
            },
            "database": {"type": "string", "enum": ["ok", "unavailable"]},
            "redis": {"type": "string", "enum": ["ok", "unavailable", "not configured"]},
            "usage": {
                "type": "string",
                "enum": ["redis", "in process"],
                "description": "With Redis configured: where last-used records are kept right now.",
            },
        },
    },
}

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}

VERIFY = {
    "post": {
        "operationId": "verifyKey",
        "summary": "Check an API key",
        "description": (
            "What data-plane services call for every request they receive with an API key. An answer of "
            "200 says whether the key is valid; any other status means the check could not be made."
        ),
        "tags": ["keys"],
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/VerifyRequest"}}},
        },
        "responses": {
            "200": {
                "description": "The key was checked: valid, or refused with a code.",
                "content": {
                    JSON: {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/VerifyValid"},
                                {"$ref": "#/components/schemas/VerifyInvalid"},
                            ]
                        }
                    }
                },
            },
            "400": _json("VerifyBadRequest", "The body is not JSON with a string `key`."),
            "413": _json("ErrorResponse", "The body is larger than KEYWARD_MAX_BODY_BYTES (code PAYLOAD_TOO_LARGE)."),
            "503": _json(
                "ErrorResponse",
                "The database does not answer (code UNAVAILABLE): the key could not be checked; retry.",
                {"Retry-After": {**RETRY_AFTER["Retry-After"], "required": True}},
            ),
        },
    }
}

SCHEMAS.update(
    {
        "LeakReport": {
            "type": "array",
            "description": "GitHub's secret-scanning partner format: the values found and where.",
            "maxItems": 1000,
            "items": {
                "type": "object",
                "required": ["token"],
                "properties": {
                    "token": {"type": "string", "description": "The value found (any string; only Keyward's count)."},
                    "type": {"type": "string", "description": "The scanner's name for the kind; echoed back."},
                    "url": {"type": "string", "description": "Where it was found; kept in the audit log."},
                    "source": {"type": "string", "description": "e.g. content, commit, issue; kept in the audit log."},
                },
            },
        },
        "LeakVerdicts": {
            "type": "array",
            "description": "One verdict per entry, in order (GitHub's format).",
            "items": {
                "type": "object",
                "required": ["token_raw", "token_type", "label"],
                "additionalProperties": False,
                "properties": {
                    "token_raw": {"type": "string"},
                    "token_type": {"type": "string"},
                    "label": {
                        "enum": ["true_positive", "false_positive"],
                        "description": "true_positive: a credential Keyward issued and still knows (revoked or "
                        "flagged now, or before).",
                    },
                },
            },
        },
        "LeakError": {
            "type": "object",
            "description": "The report was not processed. The message never repeats a value sent.",
            "required": ["error"],
            "additionalProperties": False,
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["message", "code"],
                    "properties": {"message": {"type": "string"}, "code": {"type": "integer"}},
                }
            },
        },
    }
)

LEAKS = {
    "post": {
        "operationId": "reportLeaks",
        "summary": "Report leaked credentials (GitHub secret-scanning partner format)",
        "description": (
            "Possession is the proof: no credential is needed. Live Keyward credentials found are revoked "
            "(API keys deleted) or, when the workspace only flags leaks, flagged; every one is audited with "
            "the URL and source. Values that are not Keyward credentials cost no database query."
        ),
        "tags": ["leaks"],
        "requestBody": {"required": True, "content": {JSON: {"schema": {"$ref": "#/components/schemas/LeakReport"}}}},
        "responses": {
            "200": _json("LeakVerdicts", "Every entry was checked."),
            "400": _json("LeakError", "The body is not a JSON array of objects with a string `token`."),
            "413": {
                "description": "More than 1,000 entries (LeakError), or a body over KEYWARD_MAX_BODY_BYTES "
                "(ErrorResponse).",
                "content": {
                    JSON: {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/LeakError"},
                                {"$ref": "#/components/schemas/ErrorResponse"},
                            ]
                        }
                    }
                },
            },
            "429": _json("LeakError", "Too many reports from this address (KEYWARD_LEAKS_RATE_LIMIT).", RETRY_AFTER),
            "503": _json(
                "ErrorResponse",
                "The database does not answer (code UNAVAILABLE): the report was not processed; send it again.",
                {"Retry-After": {**RETRY_AFTER["Retry-After"], "required": True}},
            ),
        },
    }
}

HEALTHZ = {
    "get": {
        "operationId": "healthz",
        "summary": "Liveness: the process answers",
        "tags": ["probes"],
        "responses": {"200": _json("Health", "The process is up.")},
    }
}

READYZ = {
    "get": {
        "operationId": "readyz",
        "summary": "Readiness: the database (and Redis, when configured) answer",
        "tags": ["probes"],
        "responses": {
            "200": _json(
                "Readiness", "Ready to serve (status degraded: Redis does not answer, uses are kept in process)."
            ),
            "503": _json("Readiness", "Not ready: the database does not answer (or not within the second)."),
        },
    }
}

PATHS: dict[str, Any] = {
    "/v1/keys/verify": VERIFY,
    "/v1/leaks": LEAKS,
    "/healthz": HEALTHZ,
    "/readyz": READYZ,
}


def _keyward_version() -> str:
    try:
        return version("keyward")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Keyward REST endpoints",
            "version": _keyward_version(),
            "description": (
                "Key verification for data-plane services, leaked-credential reports and probes for "
                "orchestrators. Everything else "
                "is the GraphQL API at /graphql (its schema is the committed SDL)."
            ),
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())
