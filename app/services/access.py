"""Where a person's access narrows: the sessions that carried the old access end here, and only here.

Removal, demotion and leaving end the sessions of that one membership; a password change ends every
session of the person; a log-out or a leak report ends one session. A session opened by another without
the password (`Session.opened_by`) ends with it, wherever it ends. A session is checked against the
database on every request, so the change is seen on the very next request by every process. Anything
that remembers verified credentials between requests (a per-process cache) must be told from
`_sessions_ended`, the one function that ends them.
"""

from collections.abc import Iterator
from datetime import datetime

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from app.clock import utcnow
from app.models import Membership, Session
from app.services.credential_state import REVOKED

BATCH = 1000  # ids bound in one statement


async def access_narrowed(membership_id: int) -> int:
    """The person's access in one workspace narrowed (removed, demoted, left): that membership's sessions end.

    Call it inside the transaction that narrows the access. Returns how many sessions ended.
    """
    return await _sessions_ended(Session.filter(membership_id=membership_id))


async def password_changed(user_id: int) -> int:
    """The person's password changed: every session of theirs, in every workspace, ends."""
    memberships = Membership.filter(user_id=user_id).values("id")
    return await _sessions_ended(Session.filter(membership_id__in=Subquery(memberships)))


async def session_ended(session_id: int, *, leaked: bool = False) -> int:
    """One session ends (logged out, or reported leaked: `leaked_at` too). Returns 1 if it ended now, else 0."""
    return await _sessions_ended(Session.filter(id=session_id), leaked=leaked)


async def _sessions_ended(sessions: QuerySet[Session], *, leaked: bool = False) -> int:
    """End `sessions` and, one generation after another, every live session they opened; the count is theirs.

    The walk starts from the sessions live now: one ended before ended the sessions it had opened then, and one
    that expired took them with it (none outlives its opener). Ids go to the database in batches (a person's
    password change may name thousands of sessions, past what one statement may bind).
    """
    now = utcnow()
    live = await _live_ids(sessions, now)
    ended = await _end(live, now, {"leaked_at": now} if leaked else {})
    while live:
        live = [i for batch in _batches(live) for i in await _live_ids(Session.filter(opened_by_id__in=batch), now)]
        await _end(live, now, {})
    return ended


async def _live_ids(sessions: QuerySet[Session], now: datetime) -> list[int]:
    return [row["id"] for row in await sessions.filter(REVOKED.passes_q(now)).values("id")]


async def _end(ids: list[int], now: datetime, also: dict[str, datetime]) -> int:
    ended = 0
    for batch in _batches(ids):
        ended += await Session.filter(REVOKED.passes_q(now), id__in=batch).update(revoked_at=now, **also)
    return ended


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]
