"""Where a person's access narrows: the sessions that carried the old access end here, and only here.

Removal, demotion and leaving end the sessions of that one membership; a password change ends every
session of the person. A session is checked against the database on every request, so the change is
seen on the very next request by every process. Anything that remembers verified credentials between
requests (a per-process cache) must be told from `_sessions_ended`, the one function that ends them.
"""

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from app.clock import utcnow
from app.models import Membership, Session
from app.services.credential_state import REVOKED


async def access_narrowed(membership_id: int) -> int:
    """The person's access in one workspace narrowed (removed, demoted, left): that membership's sessions end.

    Call it inside the transaction that narrows the access. Returns how many sessions ended.
    """
    return await _sessions_ended(Session.filter(membership_id=membership_id))


async def password_changed(user_id: int) -> int:
    """The person's password changed: every session of theirs, in every workspace, ends."""
    memberships = Membership.filter(user_id=user_id).values("id")
    return await _sessions_ended(Session.filter(membership_id__in=Subquery(memberships)))


async def _sessions_ended(sessions: QuerySet[Session]) -> int:
    now = utcnow()
    return await sessions.filter(REVOKED.passes_q(now)).update(revoked_at=now)
