"""Uses that can never be written, moved aside with a log line and a metric instead of blocking a batch.

Two reasons: the database refused the row (`REFUSED`, found by `isolation.write_isolating`), or a
buffer entry could not be read as a use at all (`UNREADABLE`: a member or score another writer
left in Redis). The Redis buffer also keeps them in a capped list (`keys.DEAD_LETTERS`) for an
operator to look at; the in-process buffer has only the log line.

A log line names the credential (kind and id), the time and address of the use, and the error's
class, SQLSTATE and first line: never the database's DETAIL, which can quote a whole row.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from app.clock import utcnow
from app.observability.metrics import USES_DEAD_LETTERED
from app.usage.model import Use

log = logging.getLogger("keyward.usage")

REFUSED = "refused"
UNREADABLE = "unreadable"

# Log lines per call: a batch of thousands of bad rows gets a summary, not thousands of lines.
LOGGED_PER_CALL = 10
ERROR_TEXT_LIMIT = 200


@dataclass(frozen=True)
class DeadLetter:
    member: str  # "mt:42", or the raw member text when it could not be read
    at: str | None  # ISO time of the use, or the raw score
    ip: str | None
    reason: str  # REFUSED or UNREADABLE
    error: str

    @classmethod
    def refused(cls, use: Use, error: BaseException) -> "DeadLetter":
        return cls(use.member, use.at.isoformat(), use.ip, REFUSED, describe(error))

    def to_json(self) -> str:
        return orjson.dumps(
            {
                "member": self.member,
                "at": self.at,
                "ip": self.ip,
                "reason": self.reason,
                "error": self.error,
                "setAsideAt": utcnow().isoformat(),
            }
        ).decode()


def describe(error: BaseException) -> str:
    """The error's class, SQLSTATE (when the database sent one) and first line, without any DETAIL."""
    root = error
    while root.__cause__ is not None:
        root = root.__cause__
    sqlstate = getattr(root, "sqlstate", None)
    first_line = (str(root).splitlines() or [""])[0][:ERROR_TEXT_LIMIT]
    code = f" {sqlstate}" if isinstance(sqlstate, str) else ""
    return f"{type(root).__name__}{code}: {first_line}"


def report(letters: Sequence[DeadLetter]) -> None:
    """Log and count uses that were moved aside (the caller has put them where they belong)."""
    for letter in letters[:LOGGED_PER_CALL]:
        log.warning(
            "usage: set aside a use that cannot be written (%s): %s at %s from %s: %s",
            letter.reason,
            letter.member,
            letter.at,
            letter.ip or "unknown address",
            letter.error,
        )
    if len(letters) > LOGGED_PER_CALL:
        log.warning("usage: set aside %d more uses that cannot be written", len(letters) - LOGGED_PER_CALL)
    for reason in {letter.reason for letter in letters}:
        USES_DEAD_LETTERED.labels(reason=reason).inc(sum(1 for letter in letters if letter.reason == reason))
