"""Invitations: shown once, stored hashed, single-use, expiring; new and existing accounts; mailed when SMTP is set."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from app.graphql.ids import pk_of
from app.models import AuditEvent, Invitation, User
from app.security import tokens
from app.security.tokens import TokenKind
from tests.support.api import ACCEPT_INVITATION, INVITE_MEMBER, PASSWORD, Account, Api, error_codes
from tests.support.mail_server import smtp_server
from tests.support.races import race, racing_api
from tests.support.running_app import running_api

INVITATIONS = """query($status: InvitationStatus) { invitations(first: 50, status: $status) {
  totalCount edges { node { id email role status createdAt expiresAt acceptedAt revokedAt invitedBy { kind label } } } } }"""
REVOKE = """mutation($id: ID!) { revokeInvitation(input: {id: $id}) {
  invitation { id status revokedAt } userErrors { field code } } }"""
VIEWER = "{ viewer { role email workspace { id } workspaces { id } } }"


async def invite(api: Api, who: Account, email: str, role: str = "MEMBER") -> dict[str, Any]:
    return (await api.gql(INVITE_MEMBER, {"input": {"email": email, "role": role}}, who.session))["data"][
        "inviteMember"
    ]


async def accept(api: Api, invite_token: str, password: str | None, session: str | None = None) -> dict[str, Any]:
    body = await api.gql(ACCEPT_INVITATION, {"input": {"inviteToken": invite_token, "password": password}}, session)
    return dict(body["data"]["acceptInvitation"])


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def test_an_invitation_token_is_shown_once_and_stored_only_as_a_hash(api: Api) -> None:
    # given
    owner = await api.sign_up()
    # when
    payload = await invite(api, owner, "New.Person@Example.com", "ADMIN")
    # then
    token = payload["inviteToken"]
    assert tokens.parse(token).kind is TokenKind.INVITATION
    assert payload["inviteUrl"] == f"http://keyward.test/#/accept-invitation/{token}"
    invitation = payload["invitation"]
    assert invitation["email"] == "new.person@example.com" and invitation["role"] == "ADMIN"
    assert invitation["status"] == "PENDING"
    assert invitation["invitedBy"] == {"kind": "USER", "id": invitation["invitedBy"]["id"], "label": owner.email}
    expires = datetime.fromisoformat(invitation["expiresAt"]) - datetime.fromisoformat(invitation["createdAt"])
    assert timedelta(days=7) - timedelta(seconds=5) < expires <= timedelta(days=7)
    row = await Invitation.get(id=pk_of(invitation["id"], "Invitation"))
    assert row.token_hash == tokens.hash_token(token)
    listed = (await api.ok(INVITATIONS, token=owner.session))["invitations"]["edges"]
    assert token not in str(listed) and token not in str(
        await api.ok("{ auditEvents { edges { node { action } } } }", token=owner.session)
    )


async def test_a_new_person_sets_their_password_and_is_signed_in_once(api: Api) -> None:
    # given
    owner = await api.sign_up()
    token = (await invite(api, owner, "newcomer@example.com", "ADMIN"))["inviteToken"]
    # when
    accepted = await accept(api, token, PASSWORD)
    # then: signed in to that workspace with the invited role; the link is spent
    assert accepted["userErrors"] == []
    assert accepted["viewer"] == {
        "kind": "USER",
        "role": "ADMIN",
        "email": "newcomer@example.com",
        "workspace": {"id": owner.workspace_id, "name": "Acme"},
    }
    assert (await api.ok(VIEWER, token=accepted["sessionToken"]))["viewer"]["role"] == "ADMIN"
    assert codes(await accept(api, token, PASSWORD)) == ["INVITATION_ACCEPTED"]
    statuses = (await api.ok(INVITATIONS, {"status": "ACCEPTED"}, owner.session))["invitations"]
    assert statuses["totalCount"] == 1 and statuses["edges"][0]["node"]["acceptedAt"]


async def test_a_new_person_must_choose_a_password_that_passes_the_policy(api: Api) -> None:
    owner = await api.sign_up()
    token = (await invite(api, owner, "newcomer@example.com"))["inviteToken"]
    assert codes(await accept(api, token, None)) == ["PASSWORD_REQUIRED"]
    assert codes(await accept(api, token, "1234567890")) == ["PASSWORD_TOO_WEAK"]
    assert codes(await accept(api, token, "newcomer@example.com")) == ["PASSWORD_FROM_EMAIL"]
    assert await User.filter(email="newcomer@example.com").count() == 0
    assert (await accept(api, token, PASSWORD))["userErrors"] == []  # still pending after the refusals


async def test_an_existing_account_joins_by_password_or_its_session_without_a_new_account(api: Api) -> None:
    # given: a person with an account in another workspace, invited to two workspaces
    person = await api.sign_up(workspace="Own")
    first = await api.sign_up(workspace="First")
    second = await api.sign_up(workspace="Second")
    by_password = (await invite(api, first, person.email))["inviteToken"]
    by_session = (await invite(api, second, person.email, "ADMIN"))["inviteToken"]
    # when / then: without either proof, or with a wrong password, nothing happens
    assert codes(await accept(api, by_password, None)) == ["PASSWORD_REQUIRED"]
    assert codes(await accept(api, by_password, "wrong password here")) == ["INVALID_CREDENTIALS"]
    stranger = await api.sign_up()
    assert codes(await accept(api, by_password, None, stranger.session)) == ["PASSWORD_REQUIRED"]
    # with the password, and with the person's own session
    joined = await accept(api, by_password, PASSWORD)
    assert joined["viewer"]["workspace"]["id"] == first.workspace_id and joined["viewer"]["role"] == "MEMBER"
    joined = await accept(api, by_session, None, person.session)
    assert joined["viewer"]["workspace"]["id"] == second.workspace_id and joined["viewer"]["role"] == "ADMIN"
    assert await User.filter(email=person.email).count() == 1
    workspaces = (await api.ok(VIEWER, token=person.session))["viewer"]["workspaces"]
    assert {w["id"] for w in workspaces} == {person.workspace_id, first.workspace_id, second.workspace_id}


async def test_revoked_and_expired_invitations_cannot_be_accepted(api: Api) -> None:
    # given
    owner = await api.sign_up()
    revoked = await invite(api, owner, "revoked@example.com")
    expired = await invite(api, owner, "expired@example.com")
    await Invitation.filter(id=pk_of(expired["invitation"]["id"], "Invitation")).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    # when
    done = (await api.ok(REVOKE, {"id": revoked["invitation"]["id"]}, owner.session))["revokeInvitation"]
    # then
    assert done["invitation"]["status"] == "REVOKED" and done["invitation"]["revokedAt"]
    assert codes(await accept(api, revoked["inviteToken"], PASSWORD)) == ["INVITATION_REVOKED"]
    assert codes(await accept(api, expired["inviteToken"], PASSWORD)) == ["INVITATION_EXPIRED"]
    again = (await api.gql(REVOKE, {"id": revoked["invitation"]["id"]}, owner.session))["data"]["revokeInvitation"]
    assert codes(again) == ["NOT_PENDING"]
    for status, email in (("REVOKED", "revoked@example.com"), ("EXPIRED", "expired@example.com")):
        listed = (await api.ok(INVITATIONS, {"status": status}, owner.session))["invitations"]["edges"]
        assert [e["node"]["email"] for e in listed] == [email]
    assert (await api.ok(INVITATIONS, {"status": "PENDING"}, owner.session))["invitations"]["totalCount"] == 0


async def test_inviting_an_email_again_replaces_the_pending_link(api: Api) -> None:
    owner = await api.sign_up()
    old = (await invite(api, owner, "twice@example.com"))["inviteToken"]
    new = (await invite(api, owner, "twice@example.com"))["inviteToken"]
    assert codes(await accept(api, old, PASSWORD)) == ["INVITATION_REVOKED"]
    assert (await accept(api, new, PASSWORD))["userErrors"] == []


async def test_only_an_owner_revokes_or_replaces_a_pending_owner_invitation(api: Api) -> None:
    """Only an OWNER makes an OWNER: an ADMIN could neither invite one, but could revoke the owner's pending
    OWNER invitation or replace it by inviting the same email as a MEMBER."""
    # given an owner's pending OWNER invitation, and an ADMIN of the workspace
    owner = await api.sign_up()
    admin = await api.add_member(owner, "ADMIN")
    invited = await invite(api, owner, "co-owner@example.com", "OWNER")
    invitation_id = invited["invitation"]["id"]
    # when the ADMIN revokes it, or invites the same email again
    revoked = (await api.gql(REVOKE, {"id": invitation_id}, admin.session))["data"]["revokeInvitation"]
    replaced = await invite(api, admin, "co-owner@example.com", "MEMBER")
    # then both are refused, and the owner's link still makes an owner
    assert codes(revoked) == ["ROLE_NOT_ALLOWED"] and codes(replaced) == ["ROLE_NOT_ALLOWED"]
    accepted = await accept(api, invited["inviteToken"], PASSWORD)
    assert accepted["userErrors"] == []
    viewer = await api.ok(VIEWER, token=accepted["sessionToken"])
    assert viewer["viewer"]["role"] == "OWNER"
    # while an ADMIN still revokes and replaces the invitations it may make, and the owner an OWNER one
    member = await invite(api, admin, "member@example.com", "MEMBER")
    assert codes(await invite(api, admin, "member@example.com", "ADMIN")) == []
    again = await invite(api, owner, "second-owner@example.com", "OWNER")
    owner_revoked = (await api.gql(REVOKE, {"id": again["invitation"]["id"]}, owner.session))["data"]
    assert owner_revoked["revokeInvitation"]["userErrors"] == [] and member["userErrors"] == []


async def test_members_cannot_be_invited_again_and_bad_input_is_refused(api: Api) -> None:
    owner = await api.sign_up()
    member = await api.add_member(owner, "MEMBER")
    assert codes(await invite(api, owner, member.email)) == ["ALREADY_MEMBER"]
    assert codes(await invite(api, owner, owner.email.upper())) == ["ALREADY_MEMBER"]
    bad = await invite(api, owner, "not an email")
    assert [(e["field"], e["code"]) for e in bad["userErrors"]] == [(["email"], "INVALID_EMAIL")]


async def test_tokens_that_are_not_invitations_are_refused_before_any_lookup(api: Api) -> None:
    owner = await api.sign_up()
    never_issued = tokens.generate(TokenKind.INVITATION).value
    for value in ("kwi_nonsense", owner.session, never_issued, never_issued[:-1] + "x", ""):
        assert codes(await accept(api, value, PASSWORD)) == ["INVALID_INVITATION"], value
    token = (await invite(api, owner, "bearer@example.com"))["inviteToken"]
    response = await api.post(VIEWER, token=token)
    assert response.status_code == 401 and error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert "kwi_" in response.json()["errors"][0]["message"] and token not in response.text


async def test_an_invitation_is_accepted_once_under_concurrent_accepts(database_url: str) -> None:
    async with racing_api(database_url) as api:
        # given
        owner = await api.sign_up()
        token = (await invite(api, owner, "racer@example.com"))["inviteToken"]
        # when
        outcomes = await race(database_url, [accept(api, token, PASSWORD) for _ in range(8)])
        # then
        assert sorted(codes(o)[0] if o["userErrors"] else "ok" for o in outcomes).count("ok") == 1
        assert {codes(o)[0] for o in outcomes if o["userErrors"]} <= {"INVITATION_ACCEPTED", "CONFLICT"}
        members = await api.ok("{ members { totalCount } }", token=owner.session)
        assert members["members"]["totalCount"] == 2


# ---- mail -----------------------------------------------------------------------------------------


async def test_with_smtp_the_link_is_mailed_to_the_person_and_never_shown_to_the_inviter(database_url: str) -> None:
    with smtp_server() as inbox:
        async with running_api(
            database_url, smtp_url=inbox.url, smtp_from="Keyward <noreply@example.com>", public_url="https://kw.example"
        ) as api:
            # given
            owner = await api.sign_up(workspace="Mailers")
            # when
            payload = await invite(api, owner, "mailed@example.com", "ADMIN")
            # then: the inviter sees the invitation, not its token
            assert payload["userErrors"] == []
            assert payload["inviteToken"] is None and payload["inviteUrl"] is None
            assert payload["invitation"]["status"] == "PENDING"
            assert inbox.recipients == [["mailed@example.com"]]
            message = inbox.messages[0]
            assert message["To"] == "mailed@example.com" and message["From"] == "Keyward <noreply@example.com>"
            assert "Mailers" in message["Subject"]
            text = message.get_content()
            match = re.search(r"https://kw\.example/#/accept-invitation/(kwi_\w+)", text)
            assert match, text
            assert "mail-password" not in text
            # and the mailed link works, once
            accepted = await accept(api, match.group(1), PASSWORD)
            assert accepted["viewer"]["role"] == "ADMIN" and accepted["viewer"]["email"] == "mailed@example.com"


async def test_a_mail_server_that_refuses_leaves_no_usable_invitation(database_url: str) -> None:
    with smtp_server() as inbox:
        inbox.refuse = True
        async with running_api(database_url, smtp_url=inbox.url, public_url="https://kw.example") as api:
            owner = await api.sign_up()
            payload = await invite(api, owner, "unmailed@example.com")
            assert codes(payload) == ["MAIL_NOT_SENT"] and payload["inviteToken"] is None
            pending = await api.ok(INVITATIONS, {"status": "PENDING"}, owner.session)
            assert pending["invitations"]["totalCount"] == 0


async def test_a_new_invitation_the_mail_server_refuses_leaves_the_pending_one_working(database_url: str) -> None:
    """Inviting an email again replaces its pending invitation, but only once the new link is mailed: a refused
    mail (MAIL_NOT_SENT, "try again") revoked the link the person already had, and left them none."""
    with smtp_server() as inbox:
        async with running_api(database_url, smtp_url=inbox.url, public_url="https://kw.example") as api:
            # given: a mailed invitation
            owner = await api.sign_up()
            assert codes(await invite(api, owner, "twice@example.com")) == []
            first = re.search(r"accept-invitation/(kwi_\w+)", inbox.messages[0].get_content())
            assert first
            # when: inviting them again fails to send
            inbox.refuse = True
            assert codes(await invite(api, owner, "twice@example.com", "ADMIN")) == ["MAIL_NOT_SENT"]
            # then: the first link is still the pending invitation, and it works
            pending = await api.ok(INVITATIONS, {"status": "PENDING"}, owner.session)
            assert [e["node"]["role"] for e in pending["invitations"]["edges"]] == ["MEMBER"]
            accepted = await accept(api, first.group(1), PASSWORD)
            assert accepted["userErrors"] == [] and accepted["viewer"]["role"] == "MEMBER"
            # and once a new link is mailed, it replaces the pending one, as the audit log says
            inbox.refuse = False
            assert codes(await invite(api, owner, "again@example.com")) == []
            assert codes(await invite(api, owner, "again@example.com", "ADMIN")) == []
            pending = await api.ok(INVITATIONS, {"status": "PENDING"}, owner.session)
            assert [e["node"]["role"] for e in pending["invitations"]["edges"]] == ["ADMIN"]
            created = await AuditEvent.filter(action="invitation.created").order_by("id")
            assert [(e.details["email"], e.details["replacedPending"]) for e in created] == [
                ("twice@example.com", 0),
                ("again@example.com", 0),
                ("again@example.com", 1),
            ]


async def test_a_mailed_link_never_takes_its_address_from_the_inviting_request(database_url: str) -> None:
    with smtp_server() as inbox:
        async with running_api(database_url, smtp_url=inbox.url, public_url="https://kw.example") as api:
            # given an inviter who sends the request with a Host of their choosing
            owner = await api.sign_up()
            api.http.headers["host"] = "inviter.example"
            # when
            payload = await invite(api, owner, "hosted@example.com")
            # then the mailed link points at the console's address, not at the inviter's page (which would
            # read the token from the link's fragment: the inviter would hold it after all)
            assert payload["userErrors"] == []
            text = inbox.messages[0].get_content()
            assert "https://kw.example/#/accept-invitation/kwi_" in text and "inviter.example" not in text


def test_mail_without_a_public_url_is_refused_at_start(monkeypatch: Any) -> None:
    import pytest
    from pydantic import ValidationError

    from app.settings import Settings
    from app.settings_errors import validation_error_lines

    # given mail, and no address of the console to build its links from
    monkeypatch.setenv("KEYWARD_SMTP_URL", "smtp://keyward:mail-password@mail.example.com")
    monkeypatch.delenv("KEYWARD_PUBLIC_URL", raising=False)
    # then Keyward does not start: a mailed link would take the address the inviting request names (its Host)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert validation_error_lines(refused.value) == [
        "KEYWARD_SMTP_URL='smtp://keyward:***@mail.example.com': mailed invitation links need KEYWARD_PUBLIC_URL (the console's address, e.g. "
        "https://keyward.example.com); without it a link would point wherever the inviting request's Host header said"
    ]
    assert "mail-password" not in str(refused.value)
    # and with it, it starts
    monkeypatch.setenv("KEYWARD_PUBLIC_URL", "https://keyward.example.com")
    assert Settings().public_url == "https://keyward.example.com"


def test_a_bad_smtp_url_is_refused_at_start_without_repeating_it(monkeypatch: Any) -> None:
    import pytest
    from pydantic import ValidationError

    from app.settings import Settings

    monkeypatch.setenv("KEYWARD_SMTP_URL", "ftp://keyward:mail-password@mail.example.com")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "KEYWARD_SMTP_URL must look like smtp://" in str(refused.value)
    assert "mail-password" not in str(refused.value)
