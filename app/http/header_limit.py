"""uvicorn's HTTP protocols with a bound on the size of a request's head (request line and headers).

uvicorn's default protocol (httptools, over llhttp) has no such bound: it buffered a 20 MB header
and handed it to the app. Node answers heads over 16 KiB with 431 and nginx refuses over 32 KiB;
`keyward serve` does the same at `KEYWARD_MAX_HEADER_BYTES` (32 KiB): the bytes received while a
request's head is incomplete are counted, and past the bound the connection gets `431 Request Header
Fields Too Large` (JSON, with a code) and is closed, so at most the bound plus one read is buffered.
The pure-Python fallback (h11) has the bound built in (`h11_max_incomplete_event_size`), answering 400.
"""

from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import get_settings


def header_too_large_response(max_bytes: int) -> bytes:
    body = orjson.dumps(
        {
            "data": None,
            "errors": [
                {
                    "message": f"The request's headers are larger than {max_bytes} bytes.",
                    "extensions": {"code": "HEADERS_TOO_LARGE"},
                }
            ],
        }
    )
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        "content-type: application/json\r\n"
        "x-content-type-options: nosniff\r\n"
        "cache-control: no-store\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class HeadersTooLarge(Exception):
    pass


class HeaderBoundedHttpToolsProtocol(HttpToolsProtocol):
    """`uvicorn.run(http=...)`: httptools with the head of each request bounded (see the module docstring).

    Two counts: the raw bytes received while a head is incomplete (a head that never ends), and the
    head's exact size once it is complete (one read can bring a whole head over the bound).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_header_bytes = get_settings().max_header_bytes
        self._raw_head_bytes = 0
        self._head_bytes = 0
        self._in_head = True
        self._too_large = False

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._raw_head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._raw_head_bytes > self.max_header_bytes and not self.transport.is_closing():
            self._too_large = True
            self.send_400_response("")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._head_bytes > self.max_header_bytes:
            self._too_large = True
            raise HeadersTooLarge  # httptools stops; uvicorn answers through send_400_response
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._raw_head_bytes = 0

    def send_400_response(self, msg: str) -> None:
        if not self._too_large:
            super().send_400_response(msg)
            return
        self.logger.warning("Request headers over %d bytes refused with 431.", self.max_header_bytes)
        self.transport.write(header_too_large_response(self.max_header_bytes))
        self.transport.close()
