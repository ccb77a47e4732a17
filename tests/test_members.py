"""The people of a workspace: list, change roles, remove, leave; the owner rules; audit and events."""

from typing import Any

from app.models import WebhookEvent
from tests.support.api import PASSWORD, Account, Api, error_codes
from tests.support.webhooks import create_endpoint

MEMBERS = "{ members(first: 50) { totalCount edges { node { id email role joinedAt lastSeenAt } } } }"
CHANGE_ROLE = """mutation($id: ID!, $role: WorkspaceRole!) { changeMemberRole(input: {id: $id, role: $role}) {
  member { id email role } userErrors { field message code } } }"""
REMOVE = "mutation($id: ID!) { removeMember(input: {id: $id}) { deletedId userErrors { field message code } } }"
LEAVE = "mutation { leaveWorkspace { deletedId userErrors { field message code } } }"
VIEWER = "{ viewer { role email workspace { id } } }"
AUDIT = "{ auditEvents(first: 50) { edges { node { action targetType targetId ipAddress actor { kind label } } } } }"
TOKENS = "{ managementTokens(first: 10) { edges { node { id status createdBy { kind label } } } } }"


async def members(api: Api, who: Account) -> dict[str, dict[str, Any]]:
    data = await api.ok(MEMBERS, token=who.session)
    return {e["node"]["email"]: e["node"] for e in data["members"]["edges"]}


async def member_id(api: Api, who: Account, email: str) -> str:
    return str((await members(api, who))[email]["id"])


async def signed_in(api: Api, who: Account) -> bool:
    response = await api.post(VIEWER, token=who.session)
    return response.status_code == 200


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def test_every_member_sees_the_list_with_roles(api: Api) -> None:
    # given
    owner = await api.sign_up()
    admin = await api.add_member(owner, "ADMIN")
    member = await api.add_member(owner, "MEMBER")
    # when
    seen = await members(api, member)
    # then
    assert {email: m["role"] for email, m in seen.items()} == {
        owner.email: "OWNER",
        admin.email: "ADMIN",
        member.email: "MEMBER",
    }
    assert all(m["joinedAt"] and m["lastSeenAt"] for m in seen.values())


async def test_an_admin_changes_roles_and_the_demoted_person_is_signed_out_at_once(api: Api) -> None:
    # given
    owner = await api.sign_up()
    admin = await api.add_member(owner, "ADMIN")
    other = await api.add_member(owner, "ADMIN")
    # when
    data = await api.ok(CHANGE_ROLE, {"id": await member_id(api, owner, other.email), "role": "MEMBER"}, admin.session)
    # then
    assert data["changeMemberRole"]["member"]["role"] == "MEMBER"
    response = await api.post(VIEWER, token=other.session)
    assert response.status_code == 401 and error_codes(response.json()) == ["UNAUTHENTICATED"]
    again = await api.ok(
        "mutation($i: LogInInput!) { logIn(input: $i) { sessionToken viewer { role } } }",
        {"i": {"email": other.email, "password": PASSWORD}},
    )
    assert again["logIn"]["viewer"]["role"] == "MEMBER"


async def test_a_promotion_keeps_the_persons_sessions(api: Api) -> None:
    owner = await api.sign_up()
    member = await api.add_member(owner, "MEMBER")
    await api.ok(CHANGE_ROLE, {"id": await member_id(api, owner, member.email), "role": "ADMIN"}, owner.session)
    assert (await api.ok(VIEWER, token=member.session))["viewer"]["role"] == "ADMIN"


async def test_only_an_owner_changes_or_removes_an_owner(api: Api) -> None:
    # given
    owner = await api.sign_up()
    second = await api.add_member(owner, "OWNER")
    admin = await api.add_member(owner, "ADMIN")
    second_id = await member_id(api, owner, second.email)
    # when
    demoted = (await api.gql(CHANGE_ROLE, {"id": second_id, "role": "MEMBER"}, admin.session))["data"]
    removed = (await api.gql(REMOVE, {"id": second_id}, admin.session))["data"]
    # then
    assert codes(demoted["changeMemberRole"]) == ["ROLE_NOT_ALLOWED"]
    assert codes(removed["removeMember"]) == ["ROLE_NOT_ALLOWED"]
    assert (await members(api, owner))[second.email]["role"] == "OWNER"
    # and an owner may
    await api.ok(REMOVE, {"id": second_id}, owner.session)
    assert second.email not in await members(api, owner)


async def test_the_last_owner_can_be_neither_demoted_nor_removed_nor_leave(api: Api) -> None:
    # given
    owner = await api.sign_up()
    owner_id = await member_id(api, owner, owner.email)
    # when
    demoted = (await api.gql(CHANGE_ROLE, {"id": owner_id, "role": "ADMIN"}, owner.session))["data"]
    removed = (await api.gql(REMOVE, {"id": owner_id}, owner.session))["data"]
    left = (await api.gql(LEAVE, token=owner.session))["data"]
    # then
    assert codes(demoted["changeMemberRole"]) == ["LAST_OWNER"]
    assert codes(removed["removeMember"]) == ["LAST_OWNER"]
    assert codes(left["leaveWorkspace"]) == ["LAST_OWNER"]
    assert (await api.ok(VIEWER, token=owner.session))["viewer"]["role"] == "OWNER"


async def test_with_two_owners_one_may_step_down_or_leave(api: Api) -> None:
    owner = await api.sign_up()
    second = await api.add_member(owner, "OWNER")
    await api.ok(CHANGE_ROLE, {"id": await member_id(api, owner, owner.email), "role": "ADMIN"}, owner.session)
    assert not await signed_in(api, owner)  # stepping down narrows access too: the session ends
    data = await api.gql(LEAVE, token=second.session)
    assert codes(data["data"]["leaveWorkspace"]) == ["LAST_OWNER"]


async def test_removal_ends_the_persons_sessions_and_keeps_the_workspace_tokens(api: Api) -> None:
    # given: an ADMIN who made a management token
    owner = await api.sign_up()
    admin = await api.add_member(owner, "ADMIN")
    _, secret = await api.create_token(admin, ["VIEW_PROJECTS"], "deploy")
    # when
    data = await api.ok(REMOVE, {"id": await member_id(api, owner, admin.email)}, owner.session)
    # then
    assert data["removeMember"]["deletedId"]
    assert not await signed_in(api, admin)
    assert (await api.ok("{ viewer { kind } }", token=secret))["viewer"]["kind"] == "MANAGEMENT_TOKEN"
    tokens = (await api.ok(TOKENS, token=owner.session))["managementTokens"]["edges"]
    assert tokens[0]["node"]["status"] == "ACTIVE"
    assert tokens[0]["node"]["createdBy"] == {"kind": "USER", "label": admin.email}
    assert admin.email not in await members(api, owner)


async def test_a_removed_person_can_no_longer_log_in_to_that_workspace(api: Api) -> None:
    owner = await api.sign_up()
    member = await api.add_member(owner, "MEMBER")
    await api.ok(REMOVE, {"id": await member_id(api, owner, member.email)}, owner.session)
    body = await api.gql(
        "mutation($i: LogInInput!) { logIn(input: $i) { sessionToken userErrors { code } } }",
        {"i": {"email": member.email, "password": PASSWORD}},
    )
    assert body["data"]["logIn"] == {"sessionToken": None, "userErrors": [{"code": "NO_WORKSPACE"}]}


async def test_a_member_leaves(api: Api) -> None:
    owner = await api.sign_up()
    member = await api.add_member(owner, "MEMBER")
    data = await api.ok(LEAVE, token=member.session)
    assert data["leaveWorkspace"]["deletedId"]
    assert not await signed_in(api, member)
    assert member.email not in await members(api, owner)


async def test_members_and_admins_cannot_act_beyond_their_role(api: Api) -> None:
    owner = await api.sign_up()
    member = await api.add_member(owner, "MEMBER")
    owner_id = await member_id(api, owner, owner.email)
    for document, variables in ((REMOVE, {"id": owner_id}), (CHANGE_ROLE, {"id": owner_id, "role": "MEMBER"})):
        body = await api.gql(document, variables, member.session)
        assert error_codes(body) == ["FORBIDDEN"], body


async def test_unknown_and_foreign_members_are_not_found(api: Api) -> None:
    owner = await api.sign_up()
    other = await api.sign_up()
    foreign_id = await member_id(api, other, other.email)
    for bad in (foreign_id, "TWVtYmVyOjk5OTk5OQ==", "nonsense"):
        body = (await api.gql(REMOVE, {"id": bad}, owner.session))["data"]["removeMember"]
        assert codes(body) == ["NOT_FOUND"]
        body = (await api.gql(CHANGE_ROLE, {"id": bad, "role": "ADMIN"}, owner.session))["data"]["changeMemberRole"]
        assert codes(body) == ["NOT_FOUND"]
    assert (await members(api, other))[other.email]["role"] == "OWNER"


async def test_people_changes_are_audited_with_actor_and_ip_and_sent_as_member_changed(api: Api) -> None:
    # given: an endpoint listening to MEMBER_CHANGED
    owner = await api.sign_up()
    await create_endpoint(api, owner, "https://hooks.invalid/people", ["MEMBER_CHANGED"])
    admin = await api.add_member(owner, "ADMIN")
    member = await api.add_member(owner, "MEMBER")
    leaver = await api.add_member(owner, "MEMBER")
    # when
    await api.ok(CHANGE_ROLE, {"id": await member_id(api, owner, member.email), "role": "ADMIN"}, owner.session)
    await api.ok(REMOVE, {"id": await member_id(api, owner, admin.email)}, owner.session)
    await api.ok(LEAVE, token=leaver.session)
    # then
    events = (await api.ok(AUDIT, token=owner.session))["auditEvents"]["edges"]
    by_action = {e["node"]["action"]: e["node"] for e in events}
    assert {"invitation.created", "invitation.accepted", "member.role_changed", "member.removed", "member.left"} <= set(
        by_action
    )
    assert by_action["member.removed"]["actor"] == {"kind": "USER", "label": owner.email}
    assert by_action["member.left"]["actor"] == {"kind": "USER", "label": leaver.email}
    assert all(e["node"]["ipAddress"] == "203.0.113.7" for e in events)
    assert "kwi_" not in str(events) and "kws_" not in str(events) and PASSWORD not in str(events)
    changes = [
        (e.data["member"]["email"], e.data["change"], e.data["member"]["role"])
        for e in await WebhookEvent.filter(type="member.changed").order_by("id")
    ]
    assert changes == [
        (admin.email, "ADDED", "ADMIN"),
        (member.email, "ADDED", "MEMBER"),
        (leaver.email, "ADDED", "MEMBER"),
        (member.email, "ROLE_CHANGED", "ADMIN"),
        (admin.email, "REMOVED", None),
        (leaver.email, "LEFT", None),
    ]
