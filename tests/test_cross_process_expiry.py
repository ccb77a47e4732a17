"""An expiry reached is seen by every process on its next request, its cache included.

Two `keyward serve` processes on one database and a Redis of the test's own, their clocks moved
together through KEYWARD_TEST_CLOCK_FILE (app/clock.py). Process B accepts a management token and
an API key often enough to answer them from its cache; then the clock passes their expiry, with no
mutation and so no revocation epoch bump: B must refuse both on its very next request.
"""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from app.clock import write_clock_file
from tests.support.api import Api
from tests.support.serve_processes import CLIENT_LIMITS, Server, serve_many
from tests.support.throwaway_services import throwaway_redis

pytestmark = pytest.mark.asyncio(loop_scope="module")

VIEWER = "{ viewer { kind } }"
WARM_UP_REQUESTS = 3  # the first learns the epoch, the second caches under it, the third is answered from the cache


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clock") / "offset"
    write_clock_file(str(path), timedelta(0))
    return path


@pytest.fixture(scope="module")
def servers(database_url: str, clock_file: Path) -> Iterator[list[Server]]:
    with (
        throwaway_redis() as redis,
        serve_many(
            2,
            database_url,
            redis.url,
            test_clock_file=str(clock_file),
            usage_redis_retry_seconds="0.2",
            usage_redis_timeout_seconds="5",
        ) as started,
    ):
        yield started


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def apis(servers: list[Server]) -> AsyncIterator[tuple[Api, Api]]:
    first, second = servers
    async with (
        httpx.AsyncClient(base_url=first.base_url, limits=CLIENT_LIMITS, timeout=30) as a,
        httpx.AsyncClient(base_url=second.base_url, limits=CLIENT_LIMITS, timeout=30) as b,
    ):
        yield Api(a), Api(b)


async def test_the_other_process_refuses_an_expired_credential_on_its_next_request(
    apis: tuple[Api, Api], clock_file: Path
) -> None:
    # given a token and a key created in A that expire in an hour, accepted by B from its cache
    a, b = apis
    write_clock_file(str(clock_file), timedelta(0))
    owner = await a.sign_up()
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    project = await a.create_project(owner.session)
    _, key = await a.create_api_key(owner.session, project, expiresAt=in_an_hour)
    _, token = await a.create_token(owner, ["VIEW_PROJECTS"], expiresAt=in_an_hour)
    for _ in range(WARM_UP_REQUESTS):
        assert (await b.post(VIEWER, token=token)).status_code == 200
        assert (await b.http.post("/v1/keys/verify", json={"key": key})).json()["valid"] is True
    # when the hour has passed on every process (no mutation: nothing bumps the revocation epoch)
    write_clock_file(str(clock_file), timedelta(hours=1))
    # then B refuses both on its very next request, and on the ones after it
    for _ in range(WARM_UP_REQUESTS):
        response = await b.post(VIEWER, token=token)
        assert response.status_code == 401 and "expired" in response.json()["errors"][0]["message"]
        assert (await b.http.post("/v1/keys/verify", json={"key": key})).json()["code"] == "EXPIRED"


async def test_the_other_process_refuses_a_rotated_token_when_its_grace_ends(
    apis: tuple[Api, Api], clock_file: Path
) -> None:
    # given a token B answers from its cache, rotated in A with an hour of grace
    a, b = apis
    write_clock_file(str(clock_file), timedelta(0))
    owner = await a.sign_up()
    token_id, token = await a.create_token(owner, ["VIEW_PROJECTS"])
    for _ in range(WARM_UP_REQUESTS):
        assert (await b.post(VIEWER, token=token)).status_code == 200
    rotate = """mutation($input: RotateManagementTokenInput!) { rotateManagementToken(input: $input) {
      secret userErrors { code } } }"""
    grace = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    payload = (await a.ok(rotate, {"input": {"id": token_id, "oldTokenExpiresAt": grace}}, owner.session))[
        "rotateManagementToken"
    ]
    # then B accepts both during the grace (the old one from its cache again after a warm-up)
    for _ in range(WARM_UP_REQUESTS):
        assert (await b.post(VIEWER, token=token)).status_code == 200
        assert (await b.post(VIEWER, token=payload["secret"])).status_code == 200
    # when the grace has passed on every process
    write_clock_file(str(clock_file), timedelta(hours=1))
    # then B refuses the old token on its very next request, and keeps accepting the new one
    assert (await b.post(VIEWER, token=token)).status_code == 401
    assert (await b.post(VIEWER, token=payload["secret"])).status_code == 200
