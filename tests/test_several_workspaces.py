"""One person, several workspaces: a session is for one membership; switch, create, log in to the last used;
and changing the password ends every session of the person."""

import pytest

from app.models import Membership, Session, User
from app.services.accounts import open_session
from app.services.errors import NotFound
from tests.support.api import LOG_IN, PASSWORD, Api, error_codes
from tests.support.app_clock import AppClock
from tests.support.races import race, racing_api

VIEWER = "{ viewer { role email workspace { id name } workspaces { id name } } }"
CREATE = """mutation($name: String!) { createWorkspace(input: {name: $name}) {
  sessionToken viewer { role workspace { id name } } userErrors { field code } } }"""
SWITCH = """mutation($id: ID!) { switchWorkspace(input: {workspaceId: $id}) {
  sessionToken viewer { role workspace { id name } } userErrors { field code } } }"""
CHANGE_PASSWORD = """mutation($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) {
    sessionToken viewer { email workspace { id } } userErrors { field message code } } }"""
NEW_PASSWORD = "purple giraffe umbrella"


async def _role_and_workspace(api: Api, session: str) -> tuple[str, str]:
    viewer = (await api.ok(VIEWER, token=session))["viewer"]
    return viewer["role"], viewer["workspace"]["id"]


async def test_a_person_creates_another_workspace_and_switches_between_them(api: Api) -> None:
    # given
    person = await api.sign_up(workspace="First")
    # when
    created = (await api.ok(CREATE, {"name": "Second"}, person.session))["createWorkspace"]
    # then: a session in the new workspace, as its OWNER; the first session still works in the first
    assert created["viewer"]["role"] == "OWNER" and created["viewer"]["workspace"]["name"] == "Second"
    second_id = created["viewer"]["workspace"]["id"]
    assert await _role_and_workspace(api, person.session) == ("OWNER", person.workspace_id)
    listed = (await api.ok(VIEWER, token=created["sessionToken"]))["viewer"]["workspaces"]
    assert [w["name"] for w in listed] == ["First", "Second"]
    # and switching back gives a session in the first
    switched = (await api.ok(SWITCH, {"id": person.workspace_id}, created["sessionToken"]))["switchWorkspace"]
    assert switched["viewer"]["workspace"]["id"] == person.workspace_id
    assert await _role_and_workspace(api, switched["sessionToken"]) == ("OWNER", person.workspace_id)
    assert second_id != person.workspace_id


async def test_the_role_of_one_workspace_never_leaks_into_the_other(api: Api) -> None:
    # given: an OWNER of their own workspace, invited as MEMBER into another, accepting with their session
    person = await api.sign_up(workspace="Own")
    host = await api.sign_up(workspace="Host")
    _, invite_token = await api.invite(host, "MEMBER", person.email)
    member_session = await api.accept(invite_token, password=None, token=person.session)
    # when / then: in the host workspace the person is a MEMBER, whatever they are elsewhere
    assert await _role_and_workspace(api, member_session) == ("MEMBER", host.workspace_id)
    body = await api.gql("{ managementTokens { totalCount } }", token=member_session)
    assert error_codes(body) == ["FORBIDDEN"]
    body = await api.gql('mutation { createProject(input: {name: "x"}) { userErrors { code } } }', token=member_session)
    assert error_codes(body) == ["FORBIDDEN"]
    # and in their own they are still the OWNER
    assert await _role_and_workspace(api, person.session) == ("OWNER", person.workspace_id)
    assert "errors" not in await api.gql("{ managementTokens { totalCount } }", token=person.session)


async def test_switching_to_a_workspace_the_person_is_not_in_is_not_found(api: Api) -> None:
    person = await api.sign_up()
    stranger = await api.sign_up()
    for workspace_id in (stranger.workspace_id, "V29ya3NwYWNlOjk5OTk5OQ==", "nonsense"):
        payload = (await api.gql(SWITCH, {"id": workspace_id}, person.session))["data"]["switchWorkspace"]
        assert payload["sessionToken"] is None
        assert payload["userErrors"] == [{"field": ["workspaceId"], "code": "NOT_FOUND"}]


async def test_log_in_opens_the_most_recently_used_workspace(api: Api) -> None:
    # given: a person in two workspaces who last used the second
    person = await api.sign_up(workspace="First")
    created = (await api.ok(CREATE, {"name": "Second"}, person.session))["createWorkspace"]
    second_id = created["viewer"]["workspace"]["id"]
    # when / then
    logged_in = (await api.ok(LOG_IN, {"input": {"email": person.email, "password": PASSWORD}}))["logIn"]
    assert await _role_and_workspace(api, logged_in["sessionToken"]) == ("OWNER", second_id)
    # and after switching to the first, log-in opens the first
    await api.ok(SWITCH, {"id": person.workspace_id}, logged_in["sessionToken"])
    logged_in = (await api.ok(LOG_IN, {"input": {"email": person.email, "password": PASSWORD}}))["logIn"]
    assert await _role_and_workspace(api, logged_in["sessionToken"]) == ("OWNER", person.workspace_id)


async def test_a_session_opened_by_another_ends_when_that_one_does(api: Api, app_clock: AppClock) -> None:
    # given: a person in their own workspace and invited to another, 11 hours into a 12-hour session
    person = await api.sign_up(workspace="First")
    host = await api.sign_up(workspace="Host")
    _, invite_token = await api.invite(host, "MEMBER", person.email)
    app_clock.advance(hours=11)
    # when: with that session they create a workspace, switch back from there and accept the invitation
    created = (await api.ok(CREATE, {"name": "Second"}, person.session))["createWorkspace"]["sessionToken"]
    switched = (await api.ok(SWITCH, {"id": person.workspace_id}, created))["switchWorkspace"]["sessionToken"]
    accepted = await api.accept(invite_token, password=None, token=person.session)
    assert (await api.post(VIEWER, token=switched)).status_code == 200
    # then: once the first session's 12 hours are over, every session it opened is over too (no renewing the
    # lifetime without the password)
    app_clock.advance(hours=1, minutes=1)
    for session in (person.session, created, switched, accepted):
        assert (await api.post(VIEWER, token=session)).status_code == 401
    # while a log-in, with the password, opens a session of the whole lifetime
    logged_in = (await api.ok(LOG_IN, {"input": {"email": person.email, "password": PASSWORD}}))["logIn"]
    app_clock.advance(hours=11)
    assert (await api.post(VIEWER, token=logged_in["sessionToken"])).status_code == 200


@pytest.mark.parametrize("ending", ["logOut", "leak report"])
async def test_a_session_logged_out_or_reported_leaked_ends_the_sessions_it_opened(api: Api, ending: str) -> None:
    """Whoever holds a stolen session could switch workspaces with it at once: the sessions it opened kept working
    after the person logged it out (or it was reported leaked), until its own TTL was over."""
    # given: sessions opened by a session, and by one of those
    person = await api.sign_up(workspace="First")
    created = (await api.ok(CREATE, {"name": "Second"}, person.session))["createWorkspace"]["sessionToken"]
    switched = (await api.ok(SWITCH, {"id": person.workspace_id}, created))["switchWorkspace"]["sessionToken"]
    logged_in = (await api.ok(LOG_IN, {"input": {"email": person.email, "password": PASSWORD}}))["logIn"]
    # when: the first one ends
    if ending == "logOut":
        assert (await api.ok("mutation { logOut { ok } }", {}, person.session))["logOut"]["ok"] is True
    else:
        answer = await api.http.post("/v1/leaks", json=[{"token": person.session, "type": "keyward_token"}])
        assert answer.json()[0]["label"] == "true_positive"
    # then: so do the ones it opened, and theirs; a session opened with the password stays
    for session in (person.session, created, switched):
        assert (await api.post(VIEWER, token=session)).status_code == 401
    assert (await api.post(VIEWER, token=logged_in["sessionToken"])).status_code == 200
    # and a session that ended opens none
    assert (await api.post(CREATE, {"name": "Third"}, token=created)).status_code == 401


async def test_sessions_opened_while_their_opener_logs_out_end_with_it(database_url: str) -> None:
    """31 switchWorkspace calls racing the log-out of the session they use: each new session is written before the
    log-out and ended by it, or refused; none outlives it (the opener's row is held until the new one is written)."""
    async with racing_api(database_url) as api:
        person = await api.sign_up()
        switches = [api.gql(SWITCH, {"id": person.workspace_id}, person.session) for _ in range(31)]
        log_out = api.gql("mutation { logOut { ok } }", {}, person.session)
        answers = await race(database_url, [log_out, *switches], held_table="session")
        assert answers[0]["data"]["logOut"]["ok"] is True
        opened = [a["data"]["switchWorkspace"]["sessionToken"] for a in answers[1:] if a.get("data")]
        for session in filter(None, opened):
            assert (await api.post(VIEWER, token=session)).status_code == 401


async def test_management_tokens_cannot_use_the_personal_mutations(api: Api) -> None:
    person = await api.sign_up()
    _, secret = await api.create_token(person, ["VIEW_PROJECTS", "MANAGE_PROJECTS"])
    for document, variables in (
        (CREATE, {"name": "x"}),
        (SWITCH, {"id": person.workspace_id}),
        (CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}),
        ("mutation { leaveWorkspace { deletedId } }", {}),
    ):
        assert error_codes(await api.gql(document, variables, secret)) == ["FORBIDDEN"]
        assert error_codes(await api.gql(document, variables)) == ["UNAUTHENTICATED"]


async def test_change_password_ends_every_session_of_the_person_in_every_workspace(api: Api) -> None:
    # given: a person with sessions in two workspaces, and another person's session
    person = await api.sign_up(workspace="First")
    other_session = (await api.ok(CREATE, {"name": "Second"}, person.session))["createWorkspace"]["sessionToken"]
    bystander = await api.sign_up()
    # when
    payload = (await api.ok(CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, person.session))[
        "changePassword"
    ]
    # then: only the session in the answer works; the old password is refused, the new one accepted
    for old in (person.session, other_session):
        assert (await api.post(VIEWER, token=old)).status_code == 401
    assert await _role_and_workspace(api, payload["sessionToken"]) == ("OWNER", person.workspace_id)
    assert (await api.post(VIEWER, token=bystander.session)).status_code == 200
    refused = await api.gql(LOG_IN, {"input": {"email": person.email, "password": PASSWORD}})
    assert refused["data"]["logIn"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await api.ok(LOG_IN, {"input": {"email": person.email, "password": NEW_PASSWORD}}))["logIn"]["sessionToken"]
    audit = await api.ok("{ auditEvents(first: 5) { edges { node { action } } } }", token=payload["sessionToken"])
    assert "user.password_changed" in [e["node"]["action"] for e in audit["auditEvents"]["edges"]]


async def test_change_password_checks_the_current_one_and_the_policy(api: Api) -> None:
    person = await api.sign_up()
    wrong = (await api.gql(CHANGE_PASSWORD, {"current": "not my password", "new": NEW_PASSWORD}, person.session))[
        "data"
    ]["changePassword"]
    assert [(e["field"], e["code"]) for e in wrong["userErrors"]] == [(["currentPassword"], "INVALID_CREDENTIALS")]
    weak = (await api.gql(CHANGE_PASSWORD, {"current": PASSWORD, "new": "1234567890"}, person.session))["data"][
        "changePassword"
    ]
    assert [(e["field"], e["code"]) for e in weak["userErrors"]] == [(["newPassword"], "PASSWORD_TOO_WEAK")]
    assert "1234567890" not in str(weak)
    assert (await api.post(VIEWER, token=person.session)).status_code == 200  # nothing changed


async def test_guessing_the_current_password_is_throttled_like_a_log_in(api: Api) -> None:
    person = await api.sign_up()
    answers = []
    for n in range(7):
        body = await api.gql(CHANGE_PASSWORD, {"current": f"wrong guess {n}", "new": NEW_PASSWORD}, person.session)
        answers.append(body["data"]["changePassword"]["userErrors"][0]["code"])
    assert answers[:5] == ["INVALID_CREDENTIALS"] * 5
    assert answers[5:] == ["TOO_MANY_ATTEMPTS"] * 2


async def test_a_session_for_a_membership_removed_meanwhile_is_not_found_and_not_written(api: Api) -> None:
    """logIn, switchWorkspace and changePassword read the membership, then open the session: a removal that
    commits in between left a session row pointing at nothing (a foreign key error, 500, on PostgreSQL)."""
    # given a membership read, then removed before its session is written
    person = await api.sign_up(workspace="Removed meanwhile")
    membership = await Membership.get(user__email=person.email)
    user = await User.get(email=person.email)
    await Membership.filter(id=membership.id).delete()
    # when / then
    with pytest.raises(NotFound):
        await open_session(membership, user, None)
    assert not await Session.filter(membership_id=membership.id).exists()
