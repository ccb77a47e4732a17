"""Probes, GraphiQL, and how the service treats its database's migrations."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.support.api import Api
from tests.support.ports import free_port

KEYWARD = [sys.executable, "-m", "keyward"]


async def test_probes(api: Api) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    assert (await api.http.get("/readyz")).json() == {"status": "ok", "database": "ok", "redis": "not configured"}


async def test_graphiql_is_served_for_exploration(api: Api) -> None:
    response = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


async def test_oversized_bodies_are_refused(api: Api) -> None:
    response = await api.http.post(
        "/graphql", content=b"x" * (300 * 1024), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_embedded_sqlite_migrates_itself(tmp_path: Path) -> None:
    # given a fresh SQLite file
    settings = Settings(database_url=f"sqlite://{tmp_path / 'fresh.sqlite3'}")
    app = create_app(settings)
    # when the app starts
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            body = (
                await http.post(
                    "/graphql",
                    json={
                        "query": 'mutation { signUp(input: {email: "m@example.com", password: "long enough pw", workspaceName: "M"}) { sessionToken } }'
                    },
                )
            ).json()
    # then it works straight away
    assert body["data"]["signUp"]["sessionToken"].startswith("kws_")


def test_keyward_migrate_command(tmp_path: Path) -> None:
    env = {**os.environ, "KEYWARD_DATABASE_URL": f"sqlite://{tmp_path / 'cli.sqlite3'}"}
    done = subprocess.run([*KEYWARD, "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Applied 0001_initial, ")
    again = subprocess.run([*KEYWARD, "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "Database is up to date."


@pytest.fixture
def empty_postgres() -> str:
    """A brand-new PostgreSQL database next to the test one (the suite's server)."""
    base = os.environ.get("KEYWARD_TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        pytest.skip("needs KEYWARD_TEST_DATABASE_URL on PostgreSQL (set by .ci/run)")
    name = f"keyward_unmigrated_{uuid.uuid4().hex[:8]}"
    admin = base.rsplit("/", 1)[0] + "/postgres"

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin.replace("postgres://", "postgresql://", 1))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    import asyncio

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_serve_refuses_an_unmigrated_postgres_database(empty_postgres: str) -> None:
    # given a PostgreSQL database nobody migrated
    env = {**os.environ, "KEYWARD_DATABASE_URL": empty_postgres}
    # when the service starts on it
    port = str(free_port())
    done = subprocess.run([*KEYWARD, "serve", "--port", port], env=env, capture_output=True, text=True, timeout=60)
    # then it refuses, and says what to run
    assert done.returncode != 0
    assert "run `keyward migrate` first" in done.stderr
    # and after `keyward migrate` the same database is accepted
    assert subprocess.run([*KEYWARD, "migrate"], env=env, capture_output=True, timeout=120).returncode == 0
