"""Rotation with grace: the old credential stops at oldTokenExpiresAt / oldKeyExpiresAt; the new one inherits.

The application's clock is moved (tests/support/app_clock.py); sessions last 12 hours, so grace
periods here are hours long (the 30-day bound is checked by its user errors).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.graphql.ids import pk_of
from app.models import ApiKey, AuditEvent, ManagementToken
from tests.support.api import Account, Api
from tests.support.app_clock import AppClock

ROTATE_TOKEN = """mutation($input: RotateManagementTokenInput!) { rotateManagementToken(input: $input) {
  secret managementToken { id name permissions status expiresAt allowedIps replaces { id status expiresAt } }
  userErrors { field message code } } }"""
ROTATE_KEY = """mutation($input: RotateApiKeyInput!) { rotateApiKey(input: $input) {
  secret apiKey { id name status expiresAt meta allowedIps project { id } }
  userErrors { field message code } } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on ManagementToken { status expiresAt } } }"
AUDIT = "{ auditEvents(first: 10) { edges { node { action targetId } } } }"
SETTINGS = """mutation($days: Int) { updateWorkspaceSettings(input: {maxTokenLifetimeDays: $days}) {
  workspace { maxTokenLifetimeDays } userErrors { field code message } } }"""
VIEWER = "{ viewer { kind } }"


def ahead(**by: float) -> str:
    return (datetime.now(UTC) + timedelta(**by)).isoformat()


async def _rotate_token(api: Api, owner: Account, **fields: Any) -> dict[str, Any]:
    return dict((await api.gql(ROTATE_TOKEN, {"input": fields}, owner.session))["data"]["rotateManagementToken"])


async def _rotate_key(api: Api, owner: Account, **fields: Any) -> dict[str, Any]:
    return dict((await api.gql(ROTATE_KEY, {"input": fields}, owner.session))["data"]["rotateApiKey"])


async def _verify(api: Api, key: str) -> dict[str, Any]:
    return dict((await api.http.post("/v1/keys/verify", json={"key": key})).json())


async def test_the_old_token_works_until_its_grace_ends_and_the_replacement_inherits(
    api: Api, app_clock: AppClock
) -> None:
    # given a token with an allowlist and a project scope (columns a rotation copies)
    owner = await api.sign_up()
    old_id, old = await api.create_token(
        owner, ["VIEW_PROJECTS", "CREATE_API_KEY"], "deploy", allowedIps=["0.0.0.0/0", "::/0"]
    )
    await ManagementToken.filter(id=pk_of(old_id, "ManagementToken")).update(project_ids="[]")
    # when it is rotated with two hours of grace
    grace = ahead(hours=2)
    payload = await _rotate_token(api, owner, id=old_id, oldTokenExpiresAt=grace)
    # then the replacement inherits, and the old token expires then
    assert payload["userErrors"] == []
    new = payload["managementToken"]
    assert new["name"] == "deploy" and new["permissions"] == ["VIEW_PROJECTS", "CREATE_API_KEY"]
    assert new["allowedIps"] == ["0.0.0.0/0", "::/0"] and new["expiresAt"] is None and new["status"] == "ACTIVE"
    assert new["replaces"]["id"] == old_id and new["replaces"]["status"] == "ACTIVE"
    assert datetime.fromisoformat(new["replaces"]["expiresAt"]) == datetime.fromisoformat(grace)
    replacement = await ManagementToken.get(id=pk_of(new["id"], "ManagementToken"))
    assert replacement.project_ids == "[]"
    # both work during the grace period
    app_clock.advance(hours=1, minutes=59)
    assert (await api.post(VIEWER, token=old)).status_code == 200
    assert (await api.post(VIEWER, token=payload["secret"])).status_code == 200
    # and from its end the old one is refused, the new one still works
    app_clock.advance(minutes=1)
    assert (await api.post(VIEWER, token=old)).status_code == 401
    assert (await api.post(VIEWER, token=payload["secret"])).status_code == 200
    assert (await api.ok(NODE, {"id": old_id}, owner.session))["node"]["status"] == "EXPIRED"
    # audited with when the old token stops
    events = [e["node"] for e in (await api.ok(AUDIT, token=owner.session))["auditEvents"]["edges"]]
    assert ("management_token.rotated", old_id) in [(e["action"], e["targetId"]) for e in events]
    rotated = await AuditEvent.get(action="management_token.rotated")
    assert datetime.fromisoformat(rotated.details["oldTokenExpiresAt"]) == datetime.fromisoformat(grace)


async def test_the_replacements_creation_is_audited_with_the_grants_it_inherited(api: Api) -> None:
    """An auditor reading `management_token.created` entries sees what each token may do, rotated or not."""
    # given a token with permissions, an allowlist, a project scope and an expiry
    owner = await api.sign_up()
    project = await api.create_project(owner.session, "scoped")
    old_id, _ = await api.create_token(
        owner,
        ["VIEW_PROJECTS", "CREATE_API_KEY"],
        "deploy",
        allowedIps=["10.0.0.0/8"],
        projectIds=[project],
        expiresAt=ahead(days=30),
    )
    # when it is rotated
    new_id = (await _rotate_token(api, owner, id=old_id))["managementToken"]["id"]
    # then the replacement's creation lists the same grants as the original's, and what it replaces
    created = {
        event.target_id: event.details
        async for event in AuditEvent.filter(action="management_token.created").order_by("id")
    }
    original = created[f"ManagementToken:{pk_of(old_id, 'ManagementToken')}"]
    replacement = created[f"ManagementToken:{pk_of(new_id, 'ManagementToken')}"]
    grants = ("permissions", "allowedIps", "projectIds")
    assert (
        {k: replacement[k] for k in grants}
        == {k: original[k] for k in grants}
        == {
            "permissions": ["CREATE_API_KEY", "VIEW_PROJECTS"],
            "allowedIps": ["10.0.0.0/8"],
            "projectIds": [f"Project:{pk_of(project, 'Project')}"],
        }
    )
    assert replacement["replaces"] == f"ManagementToken:{pk_of(old_id, 'ManagementToken')}"
    assert replacement["expiresAt"] is not None and replacement["keyPrefix"] != original["keyPrefix"]


async def test_a_grace_of_now_stops_the_old_token_at_once(api: Api) -> None:
    owner = await api.sign_up()
    old_id, old = await api.create_token(owner, ["VIEW_PROJECTS"])
    # when the client asks for "now" (its own clock, a moment before the server reads it)
    payload = await _rotate_token(api, owner, id=old_id, oldTokenExpiresAt=datetime.now(UTC).isoformat())
    # then the old token is refused on the next request
    assert payload["userErrors"] == []
    assert (await api.post(VIEWER, token=old)).status_code == 401
    assert (await api.post(VIEWER, token=payload["secret"])).status_code == 200


async def test_without_a_grace_the_old_token_keeps_working(api: Api, app_clock: AppClock) -> None:
    owner = await api.sign_up()
    old_id, old = await api.create_token(owner, ["VIEW_PROJECTS"])
    payload = await _rotate_token(api, owner, id=old_id)
    assert payload["managementToken"]["replaces"]["expiresAt"] is None
    app_clock.advance(hours=11)
    assert (await api.post(VIEWER, token=old)).status_code == 200


@pytest.mark.parametrize(
    ("by", "code"),
    [
        (timedelta(minutes=-5), "EXPIRY_IN_PAST"),
        (timedelta(days=30, minutes=5), "EXPIRY_TOO_LATE"),
    ],
    ids=["past", "after-30-days"],
)
async def test_a_grace_in_the_past_or_past_30_days_is_a_user_error(api: Api, by: timedelta, code: str) -> None:
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    token_id, token = await api.create_token(owner, ["VIEW_PROJECTS"])
    key_id, key = await api.create_api_key(owner.session, project)
    at = (datetime.now(UTC) + by).isoformat()
    token_payload = await _rotate_token(api, owner, id=token_id, oldTokenExpiresAt=at)
    key_payload = await _rotate_key(api, owner, id=key_id, oldKeyExpiresAt=at)
    assert token_payload["secret"] is None and key_payload["secret"] is None
    assert [(e["code"], e["field"]) for e in token_payload["userErrors"]] == [(code, ["oldTokenExpiresAt"])]
    assert [(e["code"], e["field"]) for e in key_payload["userErrors"]] == [(code, ["oldKeyExpiresAt"])]
    # nothing changed: the old credentials still work, unrotated
    assert (await api.post(VIEWER, token=token)).status_code == 200
    assert (await _verify(api, key))["valid"] is True
    assert await ManagementToken.filter(replaces_id=pk_of(token_id, "ManagementToken")).count() == 0
    assert await ApiKey.all().count() == 1


async def test_a_grace_of_exactly_30_days_is_accepted(api: Api) -> None:
    owner = await api.sign_up()
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"])
    payload = await _rotate_token(api, owner, id=token_id, oldTokenExpiresAt=ahead(days=30))
    assert payload["userErrors"] == []


async def test_the_grace_never_extends_an_earlier_expiry(api: Api) -> None:
    owner = await api.sign_up()
    expires_at = ahead(hours=1)
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], expiresAt=expires_at)
    payload = await _rotate_token(api, owner, id=token_id, oldTokenExpiresAt=ahead(days=3))
    old = payload["managementToken"]["replaces"]
    assert datetime.fromisoformat(old["expiresAt"]) == datetime.fromisoformat(expires_at)


async def test_an_api_key_rotates_with_grace_and_the_replacement_inherits(api: Api, app_clock: AppClock) -> None:
    # given a key with metadata, an allowlist and an expiry a day after its creation
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    meta = {"plan": "pro", "owner": "billing"}
    key_id, key = await api.create_api_key(
        owner.session, project, "checkout", expiresAt=ahead(days=1), meta=meta, allowedIps=["0.0.0.0/0"]
    )
    # when it is rotated with an hour of grace
    payload = await _rotate_key(api, owner, id=key_id, oldKeyExpiresAt=ahead(hours=1))
    # then the replacement has the same name, project, meta and allowlist, and a lifetime as long as the old one's
    assert payload["userErrors"] == []
    new = payload["apiKey"]
    assert (new["name"], new["project"]["id"], new["meta"], new["allowedIps"]) == (
        "checkout",
        project,
        meta,
        ["0.0.0.0/0"],
    )
    lifetime = datetime.fromisoformat(new["expiresAt"]) - datetime.now(UTC)
    assert timedelta(hours=23) < lifetime <= timedelta(days=1)
    assert (await _verify(api, payload["secret"]))["meta"] == meta
    # the old key works during the grace, and is refused from its end
    assert (await _verify(api, key))["valid"] is True
    app_clock.advance(hours=1)
    assert (await _verify(api, key))["code"] == "EXPIRED"
    assert (await _verify(api, payload["secret"]))["valid"] is True
    # audited
    events = [e["node"] for e in (await api.ok(AUDIT, token=owner.session))["auditEvents"]["edges"]]
    assert [e["action"] for e in events][:2] == ["api_key.rotated", "api_key.created"]


async def test_an_expired_key_is_not_rotated(api: Api, app_clock: AppClock) -> None:
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    key_id, _ = await api.create_api_key(owner.session, project, expiresAt=ahead(hours=1))
    app_clock.advance(hours=1)
    payload = await _rotate_key(api, owner, id=key_id)
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("EXPIRED", ["id"])]


async def test_the_replacement_gets_the_expiry_the_workspace_policy_requires(api: Api) -> None:
    # given tokens and keys that never expire, then a workspace policy of 30 days
    owner = await api.sign_up()
    project = await api.create_project(owner.session)
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"])
    key_id, _ = await api.create_api_key(owner.session, project)
    await api.ok(SETTINGS, {"days": 30}, owner.session)
    # when they are rotated
    token = (await _rotate_token(api, owner, id=token_id))["managementToken"]
    key = (await _rotate_key(api, owner, id=key_id))["apiKey"]
    # then the replacements expire within the policy's 30 days
    for expires_at in (token["expiresAt"], key["expiresAt"]):
        left = datetime.fromisoformat(expires_at) - datetime.now(UTC)
        assert timedelta(days=29, hours=23) < left <= timedelta(days=30)
