"""The README's receiver, run as written against real signed deliveries: it accepts Keyward's signature,
refuses a tampered body, a wrong secret and a stale timestamp, and handles a repeated event id once."""

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.webhooks import sender, signing
from app.webhooks.destinations import parse_allow_list
from tests.support.ports import free_port

README = Path(__file__).resolve().parents[1] / "README.md"
SECRET = signing.generate_secret()


def _example() -> str:
    text = README.read_text()
    match = re.search(r"<!-- receiver-example -->\n```python\n(.*?)```", text, re.S)
    assert match, "README: the receiver example is missing"
    code = match.group(1)
    serve_line = 'HTTPServer(("", 8080), Receiver).serve_forever()\n'
    assert code.endswith(serve_line)
    return code[: -len(serve_line)]


@pytest.fixture
def example_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, Any]]]:
    monkeypatch.setenv("KEYWARD_WEBHOOK_SECRET", SECRET)
    namespace: dict[str, Any] = {}
    exec(compile(_example(), "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    namespace["Receiver"].log_message = lambda *args: None
    server = HTTPServer(("127.0.0.1", free_port()), namespace["Receiver"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", namespace
    finally:
        server.shutdown()
        server.server_close()


POLICY = sender.Policy(parse_allow_list("127.0.0.1"), allow_http=True, timeout=5)


async def _post(url: str, body: bytes, secret: str, at: datetime) -> int | None:
    header = signing.signature_header([secret], int(at.timestamp()), body)
    result = await sender.send(url, body, {"Keyward-Signature": header, "Content-Type": "application/json"}, POLICY)
    return result.status_code


async def test_the_readme_receiver_verifies_keyward_signatures(example_receiver: tuple[str, dict[str, Any]]) -> None:
    url, namespace = example_receiver
    body = b'{"id":"evt_1","type":"ping","createdAt":"2026-01-01T00:00:00+00:00","workspaceId":"x","data":{}}'
    now = datetime.now(UTC)
    assert await _post(url, body, SECRET, now) == 204
    assert await _post(url, body, SECRET, now) == 204  # a duplicate is answered and not handled again
    assert namespace["handled"] == {"evt_1"}
    assert await _post(url, body.replace(b"ping", b"pong"), "kwh_" + "x" * 36, now) == 400
    assert await _post(url, body, SECRET, now - timedelta(minutes=6)) == 400
    tampered_header = signing.signature_header([SECRET], int(now.timestamp()), body)
    result = await sender.send(url, body + b" ", {"Keyward-Signature": tampered_header}, POLICY)
    assert result.status_code == 400


async def test_a_timestamp_of_digits_that_are_no_number_is_refused(
    example_receiver: tuple[str, dict[str, Any]],
) -> None:
    """`t=²` (a superscript: str.isdigit takes it, int refuses it) is a bad signature, both for the README's receiver
    and for signing.verify: each raised ValueError (the receiver dropped the connection without an answer)."""
    url, _namespace = example_receiver
    body = b'{"id":"evt_2","type":"ping","createdAt":"2026-01-01T00:00:00+00:00","workspaceId":"x","data":{}}'
    header = f"t=\u00b2,v1={signing.signature(SECRET, 2, body)}"
    assert signing.verify(body, header, SECRET) is False
    result = await sender.send(url, body, {"Keyward-Signature": header.encode("latin-1")}, POLICY)  # type: ignore[dict-item]
    assert result.status_code == 400, result
