"""updateManagementToken in one process is applied by another on its very next request.

Two `keyward serve` processes on one database and a Redis of the test's own (the fixtures of
test_cross_process_cache.py). Process B answers the token from its cache; process A narrows its
permissions or changes its allowlist; B's next request follows the change. Both processes are
reached from 127.0.0.1.
"""

import pytest

from tests import test_cross_process_cache as two_processes
from tests.support.api import error_codes
from tests.test_cross_process_cache import WARM_UP_REQUESTS, World

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The two processes and their Redis, started once for this module as for test_cross_process_cache.py.
redis = two_processes.redis
servers = two_processes.servers
world = two_processes.world

UPDATE = """mutation($input: UpdateManagementTokenInput!) {
  updateManagementToken(input: $input) { userErrors { code message } } }"""
PROJECTS = "{ projects { totalCount } }"
LOOPBACK = "127.0.0.1"


async def _update(world: World, **changes: object) -> None:
    await world.a.ok(UPDATE, {"input": changes}, world.owner.session)


async def _warm(world: World, token: str) -> None:
    for _ in range(WARM_UP_REQUESTS):
        assert (await world.b.post(PROJECTS, token=token)).status_code == 200


async def test_permissions_narrowed_in_one_process_are_applied_by_the_other(world: World) -> None:
    # given a token B answers from its cache
    token_id, token = await world.a.create_token(world.owner, ["VIEW_PROJECTS", "MANAGE_PROJECTS"])
    await _warm(world, token)
    # when A takes VIEW_PROJECTS away
    await _update(world, id=token_id, permissions=["MANAGE_PROJECTS"])
    # then B's very next request is denied the field
    body = await world.b.gql(PROJECTS, token=token)
    assert error_codes(body) == ["FORBIDDEN"], body


async def test_an_allowlist_changed_in_one_process_is_applied_by_the_other(world: World) -> None:
    # given a token limited to the address B sees, answered from B's cache
    token_id, token = await world.a.create_token(world.owner, ["VIEW_PROJECTS"])
    await _update(world, id=token_id, allowedIps=[LOOPBACK])
    await _warm(world, token)
    # when A moves the allowlist elsewhere
    await _update(world, id=token_id, allowedIps=["192.0.2.0/24"])
    # then B refuses the very next request
    response = await world.b.post(PROJECTS, token=token)
    assert response.status_code == 401 and "not allowed from your address" in response.text
    # and when A allows the address again, B accepts the very next request
    await _update(world, id=token_id, allowedIps=["127.0.0.0/8"])
    assert (await world.b.post(PROJECTS, token=token)).status_code == 200
