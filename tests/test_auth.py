"""Sign up, log in, log out, sessions and failed log-in throttling."""

import pytest

from app.settings import get_settings
from tests.helpers import LOG_IN, PASSWORD, SIGN_UP, Api, error_codes

LOG_OUT = "mutation { logOut { ok } }"
VIEWER = "{ viewer { kind role email permissions workspace { id name staleAfterDays autoRevokeStaleAfterDays } } }"
AUDIT = "{ auditEvents(first: 50) { totalCount edges { node { action targetType targetId ipAddress actor { kind label } } } } }"


async def test_sign_up_creates_person_workspace_and_owner_session(api: Api) -> None:
    # when
    data = await api.ok(
        SIGN_UP, {"input": {"email": " Ada@Example.COM ", "password": PASSWORD, "workspaceName": "Acme"}}
    )
    # then
    payload = data["signUp"]
    assert payload["sessionToken"].startswith("kws_") and len(payload["sessionToken"]) == 40
    viewer = payload["viewer"]
    assert viewer["kind"] == "USER" and viewer["role"] == "OWNER" and viewer["email"] == "ada@example.com"
    assert viewer["workspace"]["name"] == "Acme"
    assert viewer["workspace"]["staleAfterDays"] == 90 and viewer["workspace"]["autoRevokeStaleAfterDays"] is None
    assert len(viewer["permissions"]) == 5
    me = await api.ok(VIEWER, token=payload["sessionToken"])
    assert me["viewer"]["email"] == "ada@example.com"


@pytest.mark.parametrize(
    ("email", "password", "workspace", "code", "field"),
    [
        ("not-an-email", PASSWORD, "Acme", "INVALID_EMAIL", ["email"]),
        ("a@b.co", "short", "Acme", "PASSWORD_TOO_SHORT", ["password"]),
        ("a@b.co", "x" * 300, "Acme", "PASSWORD_TOO_LONG", ["password"]),
        ("a@b.co", PASSWORD, "   ", "BLANK", ["workspaceName"]),
        ("a@b.co", PASSWORD, "w" * 101, "TOO_LONG", ["workspaceName"]),
    ],
)
async def test_sign_up_user_errors(
    api: Api, email: str, password: str, workspace: str, code: str, field: list[str]
) -> None:
    body = await api.gql(SIGN_UP, {"input": {"email": email, "password": password, "workspaceName": workspace}})
    payload = body["data"]["signUp"]
    assert payload["sessionToken"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)]


async def test_sign_up_twice_with_one_email_is_a_user_error(api: Api) -> None:
    await api.sign_up("same@example.com")
    body = await api.gql(SIGN_UP, {"input": {"email": "SAME@example.com", "password": PASSWORD, "workspaceName": "B"}})
    assert body["data"]["signUp"]["userErrors"][0]["code"] == "EMAIL_TAKEN"


async def test_log_in_and_log_out(api: Api) -> None:
    # given
    account = await api.sign_up("lin@example.com")
    # when
    data = await api.ok(LOG_IN, {"input": {"email": "LIN@example.com", "password": PASSWORD}})
    session = data["logIn"]["sessionToken"]
    # then
    assert session.startswith("kws_") and session != account.session
    assert (await api.ok(VIEWER, token=session))["viewer"]["role"] == "OWNER"
    # when logging out
    assert (await api.ok(LOG_OUT, token=session))["logOut"]["ok"] is True
    # then that session is refused, the other one still works
    refused = await api.post(VIEWER, token=session)
    assert refused.status_code == 401 and error_codes(refused.json()) == ["UNAUTHENTICATED"]
    assert (await api.ok(VIEWER, token=account.session))["viewer"]["email"] == "lin@example.com"


async def test_wrong_password_and_unknown_email_get_the_same_answer(api: Api) -> None:
    await api.sign_up("known@example.com")
    wrong = await api.gql(LOG_IN, {"input": {"email": "known@example.com", "password": "wrong password!"}})
    unknown = await api.gql(LOG_IN, {"input": {"email": "nobody@example.com", "password": "wrong password!"}})
    assert wrong == unknown
    assert wrong["data"]["logIn"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_repeated_failed_log_ins_are_refused_for_a_while(api: Api) -> None:
    # given
    await api.sign_up("victim@example.com")
    limit = get_settings().login_max_failures
    for _ in range(limit):
        body = await api.gql(LOG_IN, {"input": {"email": "victim@example.com", "password": "guess guess guess"}})
        assert body["data"]["logIn"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    # when the right password comes after too many failures
    body = await api.gql(LOG_IN, {"input": {"email": "victim@example.com", "password": PASSWORD}})
    # then it is refused too, without saying whether it was right
    assert body["data"]["logIn"]["sessionToken"] is None
    assert body["data"]["logIn"]["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_failures_reset_after_the_lockout_window(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a one-second lockout window
    monkeypatch.setenv("KEYWARD_LOGIN_LOCKOUT_SECONDS", "1")
    monkeypatch.setenv("KEYWARD_LOGIN_MAX_FAILURES", "2")
    get_settings.cache_clear()
    await api.sign_up("patient@example.com")
    for _ in range(2):
        await api.gql(LOG_IN, {"input": {"email": "patient@example.com", "password": "guess guess guess"}})
    locked = await api.gql(LOG_IN, {"input": {"email": "patient@example.com", "password": PASSWORD}})
    assert locked["data"]["logIn"]["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    # when the window has passed
    import asyncio

    await asyncio.sleep(1.2)
    # then the right password works again
    data = await api.ok(LOG_IN, {"input": {"email": "patient@example.com", "password": PASSWORD}})
    assert data["logIn"]["sessionToken"].startswith("kws_")


async def test_sessions_expire(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # given sessions that live one second
    monkeypatch.setenv("KEYWARD_SESSION_TTL_HOURS", str(1 / 3600))
    get_settings.cache_clear()
    account = await api.sign_up()
    assert (await api.ok(VIEWER, token=account.session))["viewer"]["kind"] == "USER"
    # when
    import asyncio

    await asyncio.sleep(1.2)
    # then
    response = await api.post(VIEWER, token=account.session)
    assert response.status_code == 401 and "log in again" in response.json()["errors"][0]["message"]


async def test_sign_up_and_log_in_are_audited_with_ip(api: Api) -> None:
    account = await api.sign_up("audited@example.com")
    await api.ok(LOG_IN, {"input": {"email": "audited@example.com", "password": PASSWORD}})
    await api.gql(LOG_IN, {"input": {"email": "audited@example.com", "password": "not the password"}})
    events = (await api.ok(AUDIT, token=account.session))["auditEvents"]["edges"]
    actions = [e["node"]["action"] for e in events]
    assert actions == ["user.log_in_failed", "user.logged_in", "workspace.created", "user.signed_up"]
    assert {e["node"]["ipAddress"] for e in events} == {"203.0.113.7"}
    assert {e["node"]["actor"]["label"] for e in events} == {"audited@example.com"}


async def test_anonymous_viewer_is_unauthenticated(api: Api) -> None:
    body = await api.gql(VIEWER)
    assert error_codes(body) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "header",
    ["Basic abc", "Bearer", "Bearer kws_short", "Bearer kws_" + "a" * 36, "Bearer " + "x" * 40],
)
async def test_bad_credentials_are_refused_with_401(api: Api, header: str) -> None:
    response = await api.http.post("/graphql", json={"query": "{ viewer { kind } }"}, headers={"Authorization": header})
    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]
