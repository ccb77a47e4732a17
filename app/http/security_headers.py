"""Headers every answer carries: `nosniff` everywhere, `Cache-Control: no-store` on every JSON answer.

JSON answers carry secrets (`secret`, `sessionToken`, signing secrets) and private data, so no
browser or proxy cache may keep one, whichever route made it (GraphQL, /v1/keys/verify, /v1/leaks,
the probes, a refusal written by a middleware). Stripe's and GitHub's APIs do the same. Pages and
assets that choose their own caching (GraphiQL, the console) keep it; `nosniff` makes browsers
trust the declared content type on all of them.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_TYPES = ("application/json", "application/graphql-response+json")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                content_type = headers.get("content-type", "").split(";")[0].strip().lower()
                if content_type in JSON_TYPES and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
