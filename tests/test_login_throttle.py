"""Log-in throttling under concurrency, and why it cannot be used to keep a person out.

Every attempt is counted before its password is checked, in one atomic statement, per email and
client address, per address, and per email from addresses that never logged in to it
(app/services/login_throttle.py). Sign-up answers that may say an email is taken are budgeted per
address the same way. Requests come from several client addresses of one running app.
"""

import asyncio
from collections import Counter
from typing import Any

import pytest
from starlette.applications import Starlette

from app.models import AuditEvent
from app.settings import get_settings
from tests.support.api import INVITE_MEMBER, LOG_IN, PASSWORD, SIGN_UP, Api
from tests.support.attempt_clock import AttemptClock
from tests.support.client_addresses import apis_from

ATTACKER = "198.51.100.66"
PERSON = "192.0.2.10"
TRAVELLING = "192.0.2.99"  # the person, from an address they never used
WRONG = "not the password at all"


def _limits(monkeypatch: pytest.MonkeyPatch, **limits: int) -> None:
    for name, value in limits.items():
        monkeypatch.setenv(f"KEYWARD_{name.upper()}", str(value))
    get_settings.cache_clear()


def _log_in(email: str, password: str) -> tuple[str, dict[str, Any]]:
    return LOG_IN, {"input": {"email": email, "password": password}}


async def _answers(api: Api, calls: list[tuple[str, dict[str, Any]]]) -> Counter[str]:
    """All calls at once; the code of each answer ("OK" for a session). Never an internal error."""
    bodies = await asyncio.gather(*(api.gql(query, variables) for query, variables in calls))
    codes: Counter[str] = Counter()
    for body in bodies:
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        codes[payload["userErrors"][0]["code"] if payload["userErrors"] else "OK"] += 1
    return codes


async def _code(api: Api, email: str, password: str) -> str:
    return next(iter((await _answers(api, [_log_in(email, password)])).elements()))


async def test_concurrent_guesses_from_one_address_get_the_budget_and_no_more(app: Starlette) -> None:
    budget = get_settings().login_max_failures
    async with apis_from(app, ATTACKER, PERSON) as (attacker, person):
        # given
        account = await person.sign_up()
        # when 60 log-ins for the email arrive at once from one address, 59 wrong and 1 right
        calls = [_log_in(account.email, WRONG)] * 59
        calls.insert(30, _log_in(account.email, PASSWORD))
        codes = await _answers(attacker, calls)
        # then at most `budget` wrong passwords were checked (and audited); the rest were refused unchecked
        assert codes["INVALID_CREDENTIALS"] <= budget, codes
        assert codes["TOO_MANY_ATTEMPTS"] >= 60 - budget - 1, codes
        assert set(codes) <= {"INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS", "OK"}
        assert await AuditEvent.filter(action="user.log_in_failed").count() == codes["INVALID_CREDENTIALS"]
        # and the person, from their own address, still gets in
        assert await _code(person, account.email, PASSWORD) == "OK"
        # while the attacker's address stays refused for this account, right password or not
        assert await _code(attacker, account.email, PASSWORD) == "TOO_MANY_ATTEMPTS"


async def test_concurrent_failures_for_an_unknown_email_are_all_counted(app: Starlette) -> None:
    budget = get_settings().login_max_failures
    async with apis_from(app, ATTACKER) as (attacker,):
        # when 32 log-ins for an email without an account fail at once
        codes = await _answers(attacker, [_log_in("nobody-here@example.com", WRONG)] * 32)
        # then none is an internal error (no unique violation on a new counter), and every one counted
        assert codes == {"INVALID_CREDENTIALS": budget, "TOO_MANY_ATTEMPTS": 32 - budget}


async def test_one_address_is_limited_across_many_emails(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> None:
    _limits(monkeypatch, login_max_failures_per_ip=10)
    async with apis_from(app, ATTACKER, PERSON) as (attacker, person):
        account = await person.sign_up()
        # when one address tries 40 different emails at once
        codes = await _answers(attacker, [_log_in(f"sprayed-{i}@example.com", WRONG) for i in range(40)])
        # then it gets its address budget and no more
        assert codes == {"INVALID_CREDENTIALS": 10, "TOO_MANY_ATTEMPTS": 30}
        # and log-ins from other addresses are untouched
        assert await _code(person, account.email, PASSWORD) == "OK"


async def test_guesses_from_many_addresses_cannot_keep_the_person_out_of_their_usual_address(
    app: Starlette, monkeypatch: pytest.MonkeyPatch, attempt_clock: AttemptClock
) -> None:
    window = 8
    _limits(monkeypatch, login_max_failures_per_email=8, login_lockout_seconds=window)
    botnet = [f"198.51.100.{i}" for i in range(1, 41)]
    async with apis_from(app, PERSON, TRAVELLING, *botnet) as (person, travelling, *bots):
        # given a person who signed up from their usual address
        account = await person.sign_up()
        # when 40 addresses guess the password at once, one guess each
        answers = await asyncio.gather(*(_answers(bot, [_log_in(account.email, WRONG)]) for bot in bots))
        codes = sum(answers, Counter())
        # then the email's budget for unfamiliar addresses bounds the guesses checked
        assert codes == {"INVALID_CREDENTIALS": 8, "TOO_MANY_ATTEMPTS": 32}
        # and the person still gets in from the address they signed up from
        assert await _code(person, account.email, PASSWORD) == "OK"
        # but not from an address they never used, until the lock has passed: one window from the
        # guess that spent the budget
        attempt_clock.advance(window - 0.5)
        assert await _code(travelling, account.email, PASSWORD) == "TOO_MANY_ATTEMPTS"
        attempt_clock.advance(0.8)
        assert await _code(travelling, account.email, PASSWORD) == "OK"


async def test_guessing_on_while_locked_does_not_extend_the_lock(
    app: Starlette, monkeypatch: pytest.MonkeyPatch, attempt_clock: AttemptClock
) -> None:
    window = 3
    _limits(monkeypatch, login_max_failures=2, login_lockout_seconds=window)
    async with apis_from(app, ATTACKER) as (attacker,):
        account = await attacker.sign_up()
        # given a spent budget: the lock runs one window from the guess that spent it
        assert await _code(attacker, account.email, WRONG) == "INVALID_CREDENTIALS"
        assert await _code(attacker, account.email, WRONG) == "INVALID_CREDENTIALS"
        # when the guessing goes on for most of the window
        for _ in range(25):
            assert await _code(attacker, account.email, WRONG) == "TOO_MANY_ATTEMPTS"
            attempt_clock.advance((window - 0.5) / 25)
        # then the lock still ends on time
        attempt_clock.advance(0.8)
        assert await _code(attacker, account.email, PASSWORD) == "OK"


async def test_an_ipv6_client_is_counted_by_its_64_prefix(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> None:
    _limits(monkeypatch, login_max_failures_per_ip=3)
    async with apis_from(app, "2001:db8:1:1::1", "2001:db8:1:1::2", "2001:db8:1:2::1") as (one, same_64, other_64):
        # given three failures from two addresses of one /64
        for api, n in [(one, 1), (same_64, 2), (one, 3)]:
            assert await _code(api, f"v6-{n}@example.com", WRONG) == "INVALID_CREDENTIALS"
        # then the fourth from either is refused, and another /64 is not
        assert await _code(same_64, "v6-4@example.com", WRONG) == "TOO_MANY_ATTEMPTS"
        assert await _code(other_64, "v6-5@example.com", WRONG) == "INVALID_CREDENTIALS"


# ---- sign-up -----------------------------------------------------------------------------------------


def _sign_up(email: str) -> tuple[str, dict[str, Any]]:
    return SIGN_UP, {"input": {"email": email, "password": PASSWORD, "workspaceName": "W"}}


async def test_answers_that_an_email_is_taken_are_budgeted_per_address(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limits(monkeypatch, signup_max_refusals_per_ip=3)
    async with apis_from(app, ATTACKER, PERSON) as (attacker, person):
        taken = await person.sign_up()
        # given sign-ups that created accounts: they gave their attempt back
        for i in range(4):
            assert await _answers(attacker, [_sign_up(f"fresh-{i}@example.com")]) == {"OK": 1}
        # when one address asks about a taken email 32 times at once
        codes = await _answers(attacker, [_sign_up(taken.email)] * 32)
        # then it learns the answer at most `budget` times
        assert codes == {"EMAIL_TAKEN": 3, "TOO_MANY_ATTEMPTS": 29}
        # and another address still gets its own budget
        assert await _answers(person, [_sign_up(taken.email)]) == {"EMAIL_TAKEN": 1}


async def test_invite_member_never_tells_whether_an_email_has_an_account(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    """addMember answered EMAIL_TAKEN (from the sign-up budget); invitations answer alike for every email."""
    _limits(monkeypatch, signup_max_refusals_per_ip=3)
    async with apis_from(app, ATTACKER, PERSON) as (attacker, person):
        # given: emails with accounts elsewhere, and emails without
        owner = await attacker.sign_up()
        others = [await person.sign_up() for _ in range(5)]
        emails = [o.email for o in others] + [f"nobody-{n}@example.com" for n in range(5)]
        # when the attacker invites them all, several times over
        calls = [
            attacker.gql(INVITE_MEMBER, {"input": {"email": email, "role": "MEMBER"}}, owner.session)
            for email in emails * 4
        ]
        bodies = await asyncio.gather(*calls)
        # then every answer is a pending invitation: nothing tells the two kinds of email apart
        shapes = Counter(
            (tuple(b["data"]["inviteMember"]["userErrors"]), b["data"]["inviteMember"]["invitation"]["status"])
            for b in bodies
        )
        assert shapes == {((), "PENDING"): 40}
