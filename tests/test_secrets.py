"""A secret is shown once: afterwards it is in no response, no database row, no audit event, no log line."""

import logging

import pytest
from tortoise import Tortoise

from tests.support.api import LOG_IN, PASSWORD, Api

EVERYTHING = """
{
  viewer { kind email }
  projects { edges { node { id name apiKeys { edges { node { id name keyPrefix createdBy { label } } } } } } }
  managementTokens { edges { node { id name keyPrefix createdBy { label } replaces { keyPrefix } replacedBy { keyPrefix } } } }
  auditEvents(first: 100) { edges { node { action actor { kind id label } targetId ipAddress } } }
}"""


async def _database_text() -> str:
    rows = []
    for model in Tortoise.apps.get_models_iterable():
        rows += [str(row) for row in await model.all().values()]
    return "\n".join(rows)


async def test_no_secret_anywhere_after_its_one_showing(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # given every kind of secret, each shown once
    owner = await api.sign_up("secretive@example.com")
    login = await api.ok(LOG_IN, {"input": {"email": "secretive@example.com", "password": PASSWORD}})
    project_id = await api.create_project(owner.session)
    _, api_key = await api.create_api_key(owner.session, project_id)
    token_id, token = await api.create_token(owner, ["VIEW_PROJECTS", "CREATE_API_KEY"], name="ci")
    rotated = await api.ok(
        "mutation($id: ID!) { rotateManagementToken(input: {id: $id}) { secret } }", {"id": token_id}, owner.session
    )
    secrets = [
        owner.session,
        login["logIn"]["sessionToken"],
        api_key,
        token,
        rotated["rotateManagementToken"]["secret"],
        PASSWORD,
    ]
    # when the token is used, a wrong one is tried, and everything is read back
    await api.ok("{ projects { totalCount } }", token=token)
    await api.post("{ viewer { kind } }", token=token[:-1] + "0")
    await api.http.post("/v1/keys/verify", json={"key": api_key})
    await api.gql(LOG_IN, {"input": {"email": "secretive@example.com", "password": PASSWORD + "x"}})
    responses = str(await api.ok(EVERYTHING, token=owner.session))
    stored = await _database_text()
    logged = caplog.text
    # then
    for secret in secrets:
        assert secret not in responses
        assert secret not in stored
        assert secret not in logged
    # the stored form is the SHA-256, and the prefix is a strict prefix of the value
    assert "token_hash" not in responses and "password_hash" not in responses
