"""Concurrent removals and demotions of the last two OWNERs never leave a workspace without an OWNER."""

from collections import Counter

from app.models import Membership
from app.security.permissions import WorkspaceRole
from tests.support.api import Api
from tests.support.races import race, racing_api
from tests.test_members import CHANGE_ROLE, REMOVE, member_id

RACERS = 32


async def test_32_removals_and_demotions_of_the_last_two_owners_leave_exactly_one(database_url: str) -> None:
    async with racing_api(database_url) as api:
        # given: a workspace with two OWNERs, each about to remove or demote the other, 32 times at once
        first = await api.sign_up()
        second = await api.add_member(first, "OWNER")
        first_id = await member_id(api, first, first.email)
        second_id = await member_id(api, first, second.email)
        calls = []
        for n in range(RACERS):
            actor, target = (first, second_id) if n % 2 == 0 else (second, first_id)
            if n % 4 < 2:
                calls.append(_call(api, REMOVE, {"id": target}, actor.session))
            else:
                calls.append(_call(api, CHANGE_ROLE, {"id": target, "role": "ADMIN"}, actor.session))
        # when
        outcomes = await race(database_url, calls)
        # then: one OWNER is left, and every refused call said why
        owners = await Membership.filter(role=WorkspaceRole.OWNER).count()
        assert owners == 1, Counter(outcomes)
        assert set(outcomes) <= {"ok", "LAST_OWNER", "NOT_FOUND", "ROLE_NOT_ALLOWED", "UNAUTHENTICATED"}, outcomes
        assert outcomes.count("ok") >= 1


async def _call(api: Api, document: str, variables: dict[str, str], session: str) -> str:
    response = await api.post(document, variables, session)
    if response.status_code == 401:
        return "UNAUTHENTICATED"  # this caller's session had already ended when the request came in
    body = response.json()
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    return payload["userErrors"][0]["code"] if payload["userErrors"] else "ok"
