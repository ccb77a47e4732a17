"""When a new or replaced credential stops working: the checks on a requested expiry, in one place.

- `expiresAt` of a new management token or API key: in the future; with the workspace's
  `maxTokenLifetimeDays` set it is required and at most that many days ahead.
- `oldTokenExpiresAt` / `oldKeyExpiresAt` of a rotation (the grace the old credential keeps): now, or
  a time within the next 30 days. A time up to a minute ago counts as now, so a client that sends
  its own "now" is not refused for the time its request took.
- A rotation's replacement gets the expiry the policy requires: the same lifetime the old credential
  had (from its creation to its expiry), counted from now; none when the old one had none; in either
  case capped at the workspace's maximum.

A time without a zone is read as UTC. No expiry a caller asks for lies more than 100 years ahead: "no
expiry" is how a credential is made to last, and every time stays thousands of years from the end of
the calendar, where adding a lifetime or converting a zone would overflow (a 500 before).
"""

from datetime import UTC, datetime, timedelta

from app.services.errors import UserInputError
from app.settings import LONGEST_DAYS

MIN_LIFETIME_DAYS = 1
MAX_LIFETIME_DAYS = 3650
ROTATION_GRACE = timedelta(days=30)
NOW_TOLERANCE = timedelta(minutes=1)


MAX_AHEAD_DAYS = LONGEST_DAYS  # 100 years, the bound of every duration setting too
MAX_AHEAD = timedelta(days=MAX_AHEAD_DAYS)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def requested_time(value: datetime, field: str) -> datetime:
    """A time a caller sent, in UTC; one with no UTC equivalent (the last day of year 9999 west of UTC) is refused."""
    try:
        return as_utc(value)
    except OverflowError:
        raise UserInputError(f"{field} is out of range.", "OUT_OF_RANGE", (field,)) from None


def requested_expiry(value: datetime, now: datetime, field: str = "expiresAt") -> datetime:
    """An expiry a caller asks for, in UTC: in the future, and at most 100 years ahead."""
    at = requested_time(value, field)
    if at <= now:
        raise UserInputError(f"{field} must be in the future.", "EXPIRY_IN_PAST", (field,))
    if at > now + MAX_AHEAD:
        raise UserInputError(
            f"{field} must be at most {MAX_AHEAD_DAYS} days (100 years) ahead: leave it out for a credential that "
            "does not expire.",
            "EXPIRY_TOO_LATE",
            (field,),
        )
    return at


def check_lifetime_days(days: int | None) -> None:
    """The bounds of `maxTokenLifetimeDays` (null: no limit)."""
    if days is not None and not MIN_LIFETIME_DAYS <= days <= MAX_LIFETIME_DAYS:
        raise UserInputError(
            f"maxTokenLifetimeDays must be between {MIN_LIFETIME_DAYS} and {MAX_LIFETIME_DAYS}, or null for no limit.",
            "OUT_OF_RANGE",
            ("maxTokenLifetimeDays",),
        )


def new_expiry(expires_at: datetime | None, max_days: int | None, now: datetime) -> datetime | None:
    """`expiresAt` of a new credential, checked against now and the workspace's maximum lifetime."""
    field = ("expiresAt",)
    if expires_at is None:
        if max_days is not None:
            raise UserInputError(
                f"This workspace requires an expiry (expiresAt) at most {max_days} days ahead.",
                "EXPIRY_REQUIRED",
                field,
            )
        return None
    at = requested_expiry(expires_at, now)
    if max_days is not None and at > now + timedelta(days=max_days):
        raise UserInputError(
            f"expiresAt must be at most {max_days} days ahead (the workspace's maxTokenLifetimeDays).",
            "EXPIRY_TOO_LATE",
            field,
        )
    return at


def grace_expiry(requested: datetime, current: datetime | None, now: datetime, field: str) -> datetime:
    """When a rotated credential stops working: `requested` (now .. now + 30 days), never later than it would."""
    at = requested_time(requested, field)
    if at < now - NOW_TOLERANCE:
        raise UserInputError(f"{field} must be now or later.", "EXPIRY_IN_PAST", (field,))
    if at > now + ROTATION_GRACE:
        raise UserInputError(
            f"{field} must be within the next {ROTATION_GRACE.days} days.", "EXPIRY_TOO_LATE", (field,)
        )
    at = max(at, now)
    return min(at, current) if current is not None else at


def replacement_expiry(
    old_created_at: datetime, old_expires_at: datetime | None, max_days: int | None, now: datetime
) -> datetime | None:
    """The replacement's expiry: the old credential's lifetime counted from now (at most 100 years: one made
    before that bound may be longer), capped by the policy."""
    cap = now + timedelta(days=max_days) if max_days is not None else None
    if old_expires_at is None:
        return cap
    lifetime = as_utc(old_expires_at) - as_utc(old_created_at)
    at = now + min(max(lifetime, timedelta(seconds=1)), MAX_AHEAD)
    return min(at, cap) if cap is not None else at
