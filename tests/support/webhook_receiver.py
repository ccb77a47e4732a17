"""A real HTTP receiver on loopback for webhook tests: it records every request and answers as scripted.

    with webhook_receiver() as receiver:        # receiver.url: http://127.0.0.1:<port>/hooks
        receiver.script(500, 200)               # the next answers, then `receiver.default`
        receiver.hold()                         # keep the next request waiting until release()
        receiver.wait_for(2)                    # block until two requests arrived

It runs in threads of the test process, so the code under test reaches it over real TCP, from the
test process or from a `keyward serve` / `keyward worker` process.
"""

import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from tests.support.ports import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    def __init__(self, server: ThreadingHTTPServer, path: str) -> None:
        self._server = server
        self.path = path
        self.requests: list[Received] = []
        self.default = Answer()
        self._script: deque[Answer] = deque()
        self._lock = threading.Condition()
        self._hold = threading.Event()
        self._hold.set()
        self.held = threading.Event()  # set while a request is being held

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def script(self, *answers: int | Answer) -> None:
        with self._lock:
            self._script.extend(a if isinstance(a, Answer) else Answer(status=a) for a in answers)

    def hold(self) -> None:
        """Keep the next requests waiting (no answer) until `release()`."""
        self._hold.clear()

    def release(self) -> None:
        self._hold.set()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} webhook requests, got {len(self.requests)}")
                self._lock.wait(left)
            return list(self.requests)

    def _next_answer(self) -> Answer:
        with self._lock:
            return self._script.popleft() if self._script else self.default

    def _record(self, received: Received) -> None:
        with self._lock:
            self.requests.append(received)
            self._lock.notify_all()


def _handler(receiver_box: list[Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            receiver = receiver_box[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver._record(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()))
            if not receiver._hold.is_set():
                receiver.held.set()
                receiver._hold.wait(120)
                receiver.held.clear()
            answer = receiver._next_answer()
            if answer.delay:
                time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up (a timeout): what it saw is what the test checks

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@contextlib.contextmanager
def webhook_receiver(path: str = "/hooks") -> Iterator[Receiver]:
    box: list[Receiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(box))
    server.daemon_threads = True
    receiver = Receiver(server, path)
    box.append(receiver)
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()
        server.shutdown()
        server.server_close()
