"""updateManagementToken: what an ADMIN may change, what is refused, and what every change leaves behind.

Across processes (the change seen on the next request of another process): test_cross_process_updates.py.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette

from app.graphql.ids import pk_of
from app.models import AuditEvent, ManagementToken, WebhookEvent
from app.settings import Settings
from tests.support.api import TOKEN_FIELDS, Account, Api, error_codes
from tests.support.client_addresses import apis_from
from tests.support.running_app import CLIENT_IP
from tests.support.webhooks import create_endpoint
from tests.test_credential_cache import PATIENT, WARM_UP, _serve

UPDATE = f"""
mutation($input: UpdateManagementTokenInput!) {{
  updateManagementToken(input: $input) {{
    managementToken {{ {TOKEN_FIELDS} allowedIps }} userErrors {{ field message code }}
  }}
}}"""
REVOKE = "mutation($id: ID!) { revokeManagementToken(input: {id: $id}) { userErrors { code } } }"
PROJECTS = "{ projects { totalCount } }"


async def _update(api: Api, account: Account, **changes: Any) -> dict[str, Any]:
    body = await api.gql(UPDATE, {"input": changes}, account.session)
    assert "errors" not in body, body
    return dict(body["data"]["updateManagementToken"])


async def _refused(api: Api, account: Account, **changes: Any) -> tuple[str, list[str] | None, str]:
    payload = await _update(api, account, **changes)
    assert payload["managementToken"] is None, payload
    [error] = payload["userErrors"]
    return error["code"], error["field"], error["message"]


async def _row(token_id: str) -> ManagementToken:
    return await ManagementToken.get(id=pk_of(token_id, "ManagementToken"))


async def test_an_admin_renames_changes_permissions_and_allowlist(api: Api) -> None:
    # given
    owner = await api.sign_up()
    admin = await api.add_member(owner, "ADMIN")
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], name="ci")
    # when
    payload = await _update(
        api,
        admin,
        id=token_id,
        name="deploy",
        permissions=["VIEW_PROJECTS", "CREATE_API_KEY"],
        allowedIps=["2001:db8:0::1", "198.51.100.0/24"],
    )
    # then
    token = payload["managementToken"]
    assert payload["userErrors"] == []
    assert token["name"] == "deploy" and token["permissions"] == ["VIEW_PROJECTS", "CREATE_API_KEY"]
    assert token["allowedIps"] == ["2001:db8::1", "198.51.100.0/24"]
    # the old name is free again, the new one taken
    await api.create_token(owner, ["VIEW_PROJECTS"], name="ci")
    assert await _refused(api, admin, id=token_id, name="ci") == (
        "DUPLICATE_NAME",
        ["name"],
        "An active management token named 'ci' already exists in this workspace.",
    )
    # [] clears the allowlist: any address
    assert (await _update(api, admin, id=token_id, allowedIps=[]))["managementToken"]["allowedIps"] == []


async def test_every_change_is_audited_with_before_and_after_and_sent_as_an_event(api: Api) -> None:
    owner = await api.sign_up()
    await create_endpoint(api, owner, "https://hooks.invalid/updates", ["MANAGEMENT_TOKEN_UPDATED"])
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], name="ci")
    # when
    await _update(api, owner, id=token_id, name="ci-2", permissions=["VIEW_PROJECTS"], allowedIps=["192.0.2.1/32"])
    # then: only what changed, before and after
    [event] = await AuditEvent.filter(action="management_token.updated")
    assert event.actor_label == owner.email and event.ip_address == CLIENT_IP
    assert event.details is not None
    assert event.details["before"] == {"name": "ci", "allowedIps": []}
    assert event.details["after"] == {"name": "ci-2", "allowedIps": ["192.0.2.1"]}
    [sent] = await WebhookEvent.filter(type="management_token.updated")
    assert sent.data["changed"] == ["allowedIps", "name"]
    assert sent.data["managementToken"]["name"] == "ci-2"
    assert sent.data["managementToken"]["allowedIps"] == ["192.0.2.1"]
    assert sent.data["managementToken"]["projectIds"] is None  # every project
    # an update that changes nothing records nothing
    await _update(api, owner, id=token_id, name="ci-2")
    assert await AuditEvent.filter(action="management_token.updated").count() == 1
    assert await WebhookEvent.filter(type="management_token.updated").count() == 1


async def test_bad_input_is_a_user_error_naming_the_field(api: Api) -> None:
    owner = await api.sign_up()
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"])
    assert (await _refused(api, owner, id=token_id))[:2] == ("NOTHING_TO_UPDATE", None)
    assert (await _refused(api, owner, id=token_id, permissions=[]))[:2] == ("NO_PERMISSIONS", ["permissions"])
    assert (await _refused(api, owner, id=token_id, name=" "))[:2] == ("BLANK", ["name"])
    code, field, message = await _refused(api, owner, id=token_id, allowedIps=["10.0.0.1", "nope"])
    assert (code, field) == ("INVALID_IP", ["allowedIps", "1"]) and "'nope'" in message
    assert (await _refused(api, owner, id="TWFuYWdlbWVudFRva2VuOjk5OTk5OQ==", name="x"))[:2] == ("NOT_FOUND", ["id"])
    # nothing changed
    row = await _row(token_id)
    assert row.permissions == "VIEW_PROJECTS" and row.allowed_ips is None


async def test_the_expiry_can_be_brought_forward_and_never_extended_or_removed(api: Api) -> None:
    owner = await api.sign_up()
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"])
    in_30_days = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    # a token without expiry gets one
    await _update(api, owner, id=token_id, expiresAt=in_30_days.isoformat())
    assert (await _row(token_id)).expires_at == in_30_days
    # brought forward
    in_7_days = in_30_days - timedelta(days=23)
    await _update(api, owner, id=token_id, expiresAt=in_7_days.isoformat())
    assert (await _row(token_id)).expires_at == in_7_days
    # extended, removed or set in the past: refused, saying what to do
    code, field, message = await _refused(api, owner, id=token_id, expiresAt=in_30_days.isoformat())
    assert (code, field) == ("EXPIRY_NOT_SHORTENED", ["expiresAt"]) and "rotate" in message
    code, field, message = await _refused(api, owner, id=token_id, expiresAt=None)
    assert (code, field) == ("EXPIRY_NOT_SHORTENED", ["expiresAt"]) and "rotate" in message
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert (await _refused(api, owner, id=token_id, expiresAt=past))[:2] == ("EXPIRY_IN_PAST", ["expiresAt"])
    assert (await _row(token_id)).expires_at == in_7_days


async def test_a_revoked_token_cannot_be_updated(api: Api) -> None:
    owner = await api.sign_up()
    token_id, _ = await api.create_token(owner, ["VIEW_PROJECTS"], name="old")
    await api.ok(REVOKE, {"id": token_id}, owner.session)
    code, field, message = await _refused(api, owner, id=token_id, name="new")
    assert (code, field, message) == ("REVOKED", ["id"], "A revoked management token cannot be updated.")
    assert (await _row(token_id)).name == "old"


async def test_only_admin_and_owner_sessions_may_update(api: Api) -> None:
    owner = await api.sign_up()
    member = await api.add_member(owner, "MEMBER")
    token_id, token = await api.create_token(owner, ["VIEW_PROJECTS"])
    for caller in (member.session, token):
        body = await api.gql(UPDATE, {"input": {"id": token_id, "name": "x"}}, caller)
        assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None
    assert (await _row(token_id)).name != "x"


async def test_the_next_request_sees_the_change_also_when_the_token_was_cached(redis_settings: Settings) -> None:
    served: tuple[Api, Starlette]
    async for served in _serve(redis_settings.model_copy(update=PATIENT)):
        api, application = served
        owner = await api.sign_up()
        token_id, token = await api.create_token(owner, ["VIEW_PROJECTS", "MANAGE_PROJECTS"])
        for _ in range(WARM_UP):
            assert (await api.post(PROJECTS, token=token)).status_code == 200
        assert len(application.state.credentials.cache) == 1
        # permissions narrowed: the next request is denied the field
        await _update(api, owner, id=token_id, permissions=["MANAGE_PROJECTS"])
        assert error_codes(await api.gql(PROJECTS, token=token)) == ["FORBIDDEN"]
        # allowlist changed to another address: the next request is refused; back to this one: accepted
        await _update(api, owner, id=token_id, permissions=["VIEW_PROJECTS"], allowedIps=["192.0.2.1"])
        assert (await api.post(PROJECTS, token=token)).status_code == 401
        await _update(api, owner, id=token_id, allowedIps=[CLIENT_IP])
        assert (await api.post(PROJECTS, token=token)).status_code == 200
        async with apis_from(application, "192.0.2.1") as (elsewhere,):
            assert (await elsewhere.post(PROJECTS, token=token)).status_code == 401
