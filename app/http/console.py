"""The browser console: static HTML, CSS and JavaScript modules that talk only to /graphql.

Served from the package (no CDN, no build step). A strict Content-Security-Policy keeps the
page to its own assets, which matters on a page that shows token values once.
"""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


async def index(request: Request) -> Response:
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    return FileResponse(CONSOLE_DIR / "index.html", media_type="text/html; charset=utf-8", headers=headers)


class ConsoleAssets(StaticFiles):
    """StaticFiles with the console's security headers on every asset."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def console_routes() -> list[BaseRoute]:
    return [
        Route("/", index, methods=["GET", "HEAD"]),
        Mount("/console", app=ConsoleAssets(directory=CONSOLE_DIR), name="console"),
    ]
