"""Probes for orchestrators: /healthz (the process answers), /readyz (the database answers)."""

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from app import db

log = logging.getLogger("keyward.health")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    try:
        await db.ping()
    except Exception:  # any failure means "not ready"; the reason goes to the log only
        log.warning("readiness check failed", exc_info=True)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
