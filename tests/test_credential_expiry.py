"""Expiry of management tokens and API keys: the input, the status, the refusal, the freed name.

The application's clock is moved (tests/support/app_clock.py), never slept on. Sessions last 12
hours, so the clock moves by hours here.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.graphql.ids import pk_of
from app.models import ApiKey, ManagementToken
from tests.support.api import CREATE_API_KEY, CREATE_TOKEN, Account, Api
from tests.support.app_clock import AppClock

TOKENS = """query($status: ManagementTokenStatus) {
  managementTokens(status: $status) { edges { node { id name status expiresAt } } } }"""
KEYS = """query($status: ApiKeyStatus) { apiKeys(status: $status) { edges { node { id name status expiresAt } } } }"""
KEY = "query($id: ID!) { node(id: $id) { ... on ApiKey { status expiresAt meta } } }"
VIEWER = "{ viewer { kind } }"


def ahead(**by: float) -> str:
    return (datetime.now(UTC) + timedelta(**by)).isoformat()


async def _create_token_errors(api: Api, owner: Account, **more: Any) -> list[tuple[str, list[str]]]:
    body = await api.gql(
        CREATE_TOKEN, {"input": {"name": "t", "permissions": ["VIEW_PROJECTS"], **more}}, owner.session
    )
    payload = body["data"]["createManagementToken"]
    assert payload["secret"] is None
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def _create_key_errors(api: Api, owner: Account, project: str, **more: Any) -> list[tuple[str, list[str]]]:
    body = await api.gql(CREATE_API_KEY, {"input": {"projectId": project, "name": "k", **more}}, owner.session)
    payload = body["data"]["createApiKey"]
    assert payload["secret"] is None
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


@pytest.mark.parametrize("when", [timedelta(0), timedelta(seconds=-1), timedelta(days=-3)], ids=["now", "1s", "3d"])
async def test_an_expiry_now_or_in_the_past_is_a_user_error(api: Api, when: timedelta) -> None:
    # given
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    # when the expiry is not in the future
    at = (datetime.now(UTC) + when).isoformat()
    # then both kinds refuse it, naming the field
    assert await _create_token_errors(api, owner, expiresAt=at) == [("EXPIRY_IN_PAST", ["expiresAt"])]
    assert await _create_key_errors(api, owner, project, expiresAt=at) == [("EXPIRY_IN_PAST", ["expiresAt"])]


# The last instant of the calendar, west of UTC: it has no UTC equivalent (year 10000).
BEYOND_THE_CALENDAR = "9999-12-31T23:59:59-14:00"
UPDATE_EXPIRY = """mutation($id: ID!, $at: DateTime) {
  updateManagementToken(input: {id: $id, expiresAt: $at}) { managementToken { expiresAt } userErrors { code field } } }"""
ROTATE_TOKEN = """mutation($id: ID!, $old: DateTime) {
  rotateManagementToken(input: {id: $id, oldTokenExpiresAt: $old}) {
    managementToken { expiresAt } userErrors { code field } } }"""
ROTATE_KEY = """mutation($id: ID!, $old: DateTime) {
  rotateApiKey(input: {id: $id, oldKeyExpiresAt: $old}) { apiKey { expiresAt } userErrors { code field } } }"""


async def test_an_expiry_is_at_most_100_years_ahead_and_inside_the_calendar(api: Api) -> None:
    # given
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    # then: 36500 days ahead (less a minute for the request) is taken, a minute more is refused
    await api.create_token(owner, ["VIEW_PROJECTS"], "at-the-limit", expiresAt=ahead(days=36500, minutes=-1))
    await api.create_api_key(owner.session, project, "at-the-limit", expiresAt=ahead(days=36500, minutes=-1))
    too_late = [("EXPIRY_TOO_LATE", ["expiresAt"])]
    assert await _create_token_errors(api, owner, expiresAt=ahead(days=36500, minutes=1)) == too_late
    assert await _create_key_errors(api, owner, project, expiresAt=ahead(days=36500, minutes=1)) == too_late
    assert await _create_token_errors(api, owner, expiresAt="9999-12-31T23:59:59.999999Z") == too_late
    # and a time with no UTC equivalent is refused by every input that takes one, never a 500
    out_of_range = [("OUT_OF_RANGE", ["expiresAt"])]
    assert await _create_token_errors(api, owner, expiresAt=BEYOND_THE_CALENDAR) == out_of_range
    assert await _create_key_errors(api, owner, project, expiresAt=BEYOND_THE_CALENDAR) == out_of_range
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], "forever")
    key_id, _ = await api.create_api_key(owner.session, project, "another")
    for document, variables, payload, field in (
        (UPDATE_EXPIRY, {"id": token_id, "at": BEYOND_THE_CALENDAR}, "updateManagementToken", "expiresAt"),
        (UPDATE_EXPIRY, {"id": token_id, "at": ahead(days=36501)}, "updateManagementToken", "expiresAt"),
        (ROTATE_TOKEN, {"id": token_id, "old": BEYOND_THE_CALENDAR}, "rotateManagementToken", "oldTokenExpiresAt"),
        (ROTATE_KEY, {"id": key_id, "old": BEYOND_THE_CALENDAR}, "rotateApiKey", "oldKeyExpiresAt"),
    ):
        body = await api.gql(document, variables, owner.session)
        assert "errors" not in body, body
        [error] = body["data"][payload]["userErrors"]
        assert error["field"] == [field] and error["code"] in ("OUT_OF_RANGE", "EXPIRY_TOO_LATE"), (document, body)


async def test_a_credential_made_before_the_bound_rotates_to_one_inside_it(api: Api) -> None:
    # given a token and a key that expire at the end of the calendar (possible before the bound existed)
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], "old")
    key_id, _ = await api.create_api_key(owner.session, project, "another")
    end = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    await ManagementToken.filter(id=pk_of(token_id, "ManagementToken")).update(expires_at=end)
    await ApiKey.filter(id=pk_of(key_id, "ApiKey")).update(expires_at=end)
    # when both are rotated
    token = (await api.ok(ROTATE_TOKEN, {"id": token_id}, owner.session))["rotateManagementToken"]
    key = (await api.ok(ROTATE_KEY, {"id": key_id}, owner.session))["rotateApiKey"]
    # then the replacements expire 100 years from now, not past the calendar (a 500 before)
    for replacement in (token["managementToken"], key["apiKey"]):
        days = (datetime.fromisoformat(replacement["expiresAt"]) - datetime.now(UTC)).total_seconds() / 86400
        assert 36499.9 < days <= 36500, replacement


async def test_a_management_token_is_refused_from_its_expiry_on(api: Api, app_clock: AppClock) -> None:
    # given a token that expires in an hour
    owner = await api.sign_up()
    expires_at = ahead(hours=1)
    token_id, token = await api.create_token(owner, ["VIEW_PROJECTS"], "deploy", expiresAt=expires_at)
    listed = (await api.ok(TOKENS, token=owner.session))["managementTokens"]["edges"][0]["node"]
    assert listed["status"] == "ACTIVE"
    assert datetime.fromisoformat(listed["expiresAt"]) == datetime.fromisoformat(expires_at)
    assert (await api.post(VIEWER, token=token)).status_code == 200
    # when the hour has passed
    app_clock.advance(hours=1)
    # then the token is refused with a message saying why, and reads EXPIRED
    response = await api.post(VIEWER, token=token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "The management token has expired."
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    expired = (await api.ok(TOKENS, {"status": "EXPIRED"}, owner.session))["managementTokens"]["edges"]
    assert [(e["node"]["id"], e["node"]["status"]) for e in expired] == [(token_id, "EXPIRED")]
    assert (await api.ok(TOKENS, {"status": "ACTIVE"}, owner.session))["managementTokens"]["edges"] == []


async def test_an_expired_token_releases_its_name(api: Api, app_clock: AppClock) -> None:
    # given a token named "deploy" that expires in an hour
    owner = await api.sign_up()
    await api.create_token(owner, ["VIEW_PROJECTS"], "deploy", expiresAt=ahead(hours=1))
    # while it is active its name is taken
    assert await _create_token_errors(api, owner, name="deploy") == [("DUPLICATE_NAME", ["name"])]
    # when it has expired
    app_clock.advance(hours=1)
    # then a new token may take the name
    new_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], "deploy")
    active = (await api.ok(TOKENS, {"status": "ACTIVE"}, owner.session))["managementTokens"]["edges"]
    assert [(e["node"]["id"], e["node"]["name"]) for e in active] == [(new_id, "deploy")]


async def test_an_api_key_is_refused_by_verify_from_its_expiry_on(api: Api, app_clock: AppClock) -> None:
    # given a key that expires in an hour, and one that never does
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    expires_at = ahead(hours=1)
    key_id, key = await api.create_api_key(owner.session, project, "expiring", expiresAt=expires_at)
    lasting_id, _ = await api.create_api_key(owner.session, project, "lasting")
    valid = (await api.http.post("/v1/keys/verify", json={"key": key})).json()
    assert valid["valid"] is True and datetime.fromisoformat(valid["expiresAt"]) == datetime.fromisoformat(expires_at)
    # when the hour has passed
    app_clock.advance(hours=1)
    # then verify answers EXPIRED, the key reads EXPIRED, and the lists filter by status
    refused = (await api.http.post("/v1/keys/verify", json={"key": key})).json()
    assert refused == {"valid": False, "code": "EXPIRED", "message": "The API key has expired."}
    assert (await api.ok(KEY, {"id": key_id}, owner.session))["node"]["status"] == "EXPIRED"
    expired = (await api.ok(KEYS, {"status": "EXPIRED"}, owner.session))["apiKeys"]["edges"]
    active = (await api.ok(KEYS, {"status": "ACTIVE"}, owner.session))["apiKeys"]["edges"]
    assert [e["node"]["id"] for e in expired] == [key_id]
    assert [e["node"]["id"] for e in active] == [lasting_id]


async def test_a_cached_credential_is_refused_from_its_expiry_on(redis_api: Api, app_clock: AppClock) -> None:
    """With Redis the process caches what it verified; the cached entry honours the expiry."""
    # given a token and a key, each verified often enough to be answered from the cache
    api = redis_api
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    _, key = await api.create_api_key(owner.session, project, expiresAt=ahead(hours=1))
    _, token = await api.create_token(owner, ["VIEW_PROJECTS"], expiresAt=ahead(hours=1))
    for _ in range(3):
        assert (await api.http.post("/v1/keys/verify", json={"key": key})).json()["valid"] is True
        assert (await api.post(VIEWER, token=token)).status_code == 200
    # when the hour has passed
    app_clock.advance(hours=1)
    # then both are refused on the next request, and after it
    for _ in range(2):
        assert (await api.http.post("/v1/keys/verify", json={"key": key})).json()["code"] == "EXPIRED"
        assert (await api.post(VIEWER, token=token)).status_code == 401


async def test_a_rename_may_take_the_name_of_an_expired_token(api: Api, app_clock: AppClock) -> None:
    # given an expired token named "deploy" and an active one named "build"
    owner = await api.sign_up()
    await api.create_token(owner, ["VIEW_PROJECTS"], "deploy", expiresAt=ahead(hours=1))
    build_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], "build")
    rename = """mutation($input: UpdateManagementTokenInput!) { updateManagementToken(input: $input) {
      managementToken { name } userErrors { code field } } }"""
    refused = await api.gql(rename, {"input": {"id": build_id, "name": "deploy"}}, owner.session)
    assert refused["data"]["updateManagementToken"]["userErrors"] == [{"code": "DUPLICATE_NAME", "field": ["name"]}]
    app_clock.advance(hours=1)
    # when "build" is renamed to "deploy"
    renamed = await api.ok(rename, {"input": {"id": build_id, "name": "deploy"}}, owner.session)
    # then it takes the name
    assert renamed["updateManagementToken"]["managementToken"]["name"] == "deploy"
