"""Headers every answer carries: `nosniff` everywhere, `Cache-Control: no-store` on every JSON answer.

`app.http.envelope` adds them to every answer.

JSON answers carry secrets (`secret`, `sessionToken`, signing secrets) and private data, so no
browser or proxy cache may keep one, whichever route made it (GraphQL, /v1/keys/verify, /v1/leaks,
the probes, a refusal written by a middleware). Stripe's and GitHub's APIs do the same. Pages and
assets that choose their own caching (GraphiQL, the console) keep it; `nosniff` makes browsers
trust the declared content type on all of them.
"""

from collections.abc import Iterable

JSON_TYPES = (b"application/json", b"application/graphql-response+json")
NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")


def with_security_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` (ASGI's raw, lower-case names) with nosniff, and no-store on JSON without a Cache-Control.

    One pass over the raw list: it runs on every answer, so no header object is built for it."""
    content_type = b""
    cached = False
    kept = []
    for name, value in headers:
        if name == b"x-content-type-options":
            continue
        if name == b"content-type":
            content_type = value
        elif name == b"cache-control":
            cached = True
        kept.append((name, value))
    kept.append(NOSNIFF)
    if not cached and content_type.split(b";")[0].strip().lower() in JSON_TYPES:
        kept.append(NO_STORE)
    return kept
