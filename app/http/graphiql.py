"""GraphiQL at GET /graphql, served by Keyward itself: no CDN, so it works on an air-gapped network.

The page and its assets come from the package (``app/graphiql/``): GraphiQL and React as published
on the npm registry (vendored by ``scripts/vendor-graphiql``, listed with their SHA-256 in
``vendor/manifest.json``) and a small start-up script of ours. Every ``<script>`` and stylesheet
carries Subresource Integrity, so a file changed on disk or on the way is refused by the browser;
a strict Content-Security-Policy keeps the page to its own origin, as the console's does.
"""

import base64
import hashlib
import html
import json
from functools import cache
from pathlib import Path

from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

GRAPHIQL_DIR = Path(__file__).resolve().parent.parent / "graphiql"
VENDOR_DIR = GRAPHIQL_DIR / "vendor"
ASSETS_PATH = "/graphiql"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

# In the order the page loads them: React, then GraphiQL (which needs React as a global), then ours.
STYLESHEETS = ["vendor/graphiql.min.css", "keyward-graphiql.css"]
SCRIPTS = [
    "vendor/react.production.min.js",
    "vendor/react-dom.production.min.js",
    "vendor/graphiql.min.js",
    "keyward-graphiql.js",
]


@cache
def vendor_manifest() -> dict[str, dict[str, str]]:
    """manifest.json's files: name -> {package, source, sha256, sri}."""
    return json.loads((VENDOR_DIR / "manifest.json").read_text())["files"]  # type: ignore[no-any-return]


def integrity(asset: str) -> str:
    """The SRI value of an asset: vendored files from the manifest (what the registry published),
    our own files from their bytes."""
    if asset.startswith("vendor/"):
        return vendor_manifest()[asset.removeprefix("vendor/")]["sri"]
    digest = hashlib.sha256((GRAPHIQL_DIR / asset).read_bytes()).digest()
    return "sha256-" + base64.b64encode(digest).decode()


@cache
def page_html() -> str:
    def url(asset: str) -> str:
        return html.escape(f"{ASSETS_PATH}/{asset}")

    links = "".join(f'  <link rel="stylesheet" href="{url(a)}" integrity="{integrity(a)}">\n' for a in STYLESHEETS)
    scripts = "".join(f'  <script src="{url(a)}" integrity="{integrity(a)}"></script>\n' for a in SCRIPTS)
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n'
        '  <meta charset="utf-8">\n'
        '  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "  <title>Keyward · GraphiQL</title>\n"
        '  <link rel="icon" href="data:,">\n'
        f"{links}"
        "</head>\n<body>\n"
        '  <div id="graphiql">Loading GraphiQL…</div>\n'
        f"{scripts}"
        "</body>\n</html>\n"
    )


def graphiql_page() -> Response:
    return HTMLResponse(page_html(), headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})


class GraphiQLAssets(StaticFiles):
    """StaticFiles with the page's security headers on every asset."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def graphiql_routes() -> list[BaseRoute]:
    """The assets GET /graphql's page loads (mounted only where GraphiQL is served)."""
    return [Mount(ASSETS_PATH, app=GraphiQLAssets(directory=GRAPHIQL_DIR), name="graphiql")]
