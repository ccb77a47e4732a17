"""The bound on request bodies: a body over the configured size is refused with 413 before anything parses it.

`app.http.envelope` applies it to every request: by the declared `Content-Length` before the app
runs, and by counting what `receive` hands over when the body comes in chunks.
"""

import orjson
from starlette.responses import Response
from starlette.types import Message, Receive


class BodyTooLarge(Exception):
    pass


def declared_length_refused(declared: bytes, max_bytes: int) -> bool:
    """A `Content-Length` that is not a number, or is over the bound."""
    return not declared.isdigit() or int(declared) > max_bytes


def bounded_receive(receive: Receive, max_bytes: int) -> Receive:
    """`receive`, raising BodyTooLarge once the body chunks it handed over add up to more than `max_bytes`."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge
        return message

    return limited_receive


def too_large_response(max_bytes: int) -> Response:
    body = orjson.dumps(
        {
            "data": None,
            "errors": [
                {
                    "message": f"Request body is larger than {max_bytes} bytes.",
                    "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                }
            ],
        }
    )
    return Response(body, status_code=413, media_type="application/json")
