"""Logs as an operator reads them: a real `keyward serve`, its whole output parsed line by line.

JSON (KEYWARD_LOG_FORMAT=json): every line one object with time, level, logger and message, and
the request's id, route, status and duration on the lines a request wrote (uvicorn's access line
included). Text: a time at the start of every line, uvicorn's too. Both: the start-up line says
the version, the database and Redis without their passwords, and the sweep schedule; the
database is said to be connected before it is said to be closed, once each.
"""

import json
import re
import subprocess
import sys

import httpx

from app import keyward_version
from app.observability.startup import without_password
from tests.support.serve_processes import Server, serve

REDIS_PASSWORD = "redis-password-never-logged"
SECRET_IN_URL = "kwm_secretinaqueryparameter0123456789"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z ")


def _stopped_output(server: Server) -> str:
    """Everything the server wrote, up to and including its graceful shutdown."""
    server.process.terminate()
    server.process.wait(timeout=30)
    return server.log()


def _requests(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        answer = client.post(
            "/graphql", json={"query": "query Ping { __typename }"}, headers={"X-Request-ID": "req-from-proxy-1"}
        )
        assert answer.headers["x-request-id"] == "req-from-proxy-1"
        assert client.get("/healthz", params={"token": SECRET_IN_URL}).status_code == 200
        assert client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).status_code == 200


def _order_and_secrets(output: str, messages: list[str]) -> None:
    connected = [i for i, m in enumerate(messages) if m.startswith("database: connected to")]
    closed = [i for i, m in enumerate(messages) if m == "database: connections closed"]
    assert len(connected) == 1 and len(closed) == 1 and connected[0] < closed[0], messages
    assert not any("Tortoise-ORM" in m for m in messages)
    for secret in (REDIS_PASSWORD, SECRET_IN_URL):
        assert secret not in output


def test_json_logs_are_one_object_a_line_with_the_request_fields(database_url: str, redis_url: str) -> None:
    # given: a Redis URL with a password (this Redis has none: the API keeps uses in process and says so)
    redis_with_password = redis_url.replace("redis://", f"redis://:{REDIS_PASSWORD}@", 1)
    with serve(database_url, redis_with_password, log_level="info", log_format="json") as server:
        _requests(server)
        output = _stopped_output(server)

    # then: every line is a JSON object with the four fields
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys(), record
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", record["time"])
    loggers = {record["logger"] for record in records}
    assert {"uvicorn.error", "uvicorn.access", "keyward"} <= loggers
    access = [record for record in records if record["logger"] == "uvicorn.access"]
    ping = next(record for record in access if "POST /graphql" in record["message"])
    assert ping["request_id"] == "req-from-proxy-1"
    assert ping["route"] == "/graphql"
    assert ping["status"] == 200
    assert isinstance(ping["duration_ms"], float)
    probes = [record for record in access if "/healthz" in record["message"]]
    assert all(record["route"] == "/healthz" for record in probes)
    assert all(re.fullmatch(r"[0-9a-f]{32}", record["request_id"]) for record in probes)  # the bad one replaced
    assert any("?[redacted]" in record["message"] for record in probes)

    start = next(record["message"] for record in records if record["message"].startswith("keyward "))
    assert start.startswith(f"keyward {keyward_version()} API: database {database_url.split('?')[0]}")
    assert f"Redis at {without_password(redis_with_password)}" in start
    assert ":***@" in start
    assert "stale sweep cron '17 3 * * *' UTC, in keyward worker" in start
    _order_and_secrets(output, [record["message"] for record in records])


def test_text_logs_have_a_time_on_every_line(database_url: str) -> None:
    with serve(database_url, log_level="info", stale_sweep_cron="off") as server:
        _requests(server)
        output = _stopped_output(server)
    lines = [line for line in output.splitlines() if line.strip()]
    assert any(" INFO uvicorn.access " in line for line in lines)
    assert any(" INFO uvicorn.error Application startup complete." in line for line in lines)
    for line in lines:
        assert TIME.match(line), line
    start = next(line for line in lines if " INFO keyward keyward " in line)
    assert "no Redis (embedded mode)" in start
    assert "stale sweep off" in start
    _order_and_secrets(output, [TIME.sub("", line).split(" ", 2)[2] for line in lines])


def test_tortoise_records_go_through_the_same_format_without_its_lifecycle_lines() -> None:
    script = (
        "import logging\n"
        "from app.observability.logs import configure_logging\n"
        "configure_logging('json')\n"
        "logging.getLogger('tortoise').warning('a tortoise warning')\n"
        "logging.getLogger('tortoise').info('Tortoise-ORM shutdown')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(r["logger"], r["level"], r["message"]) for r in records] == [("tortoise", "WARNING", "a tortoise warning")]


def test_passwords_are_masked_in_urls() -> None:
    assert without_password("postgres://kw:s3cret@db:5432/kw") == "postgres://kw:***@db:5432/kw"
    assert without_password("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert without_password("sqlite://keyward.sqlite3") == "sqlite://keyward.sqlite3"
    assert without_password("postgres://kw@db/kw") == "postgres://kw@db/kw"
    assert "s3cret" not in without_password("postgres://kw:s3cret@[::1]:5432/kw")
