"""Writing a batch so that one row the database refuses cannot block the others.

A batch is written with one statement per kind. When that statement is refused for what is in
the rows (a data or integrity error), the batch is split in halves and each half written again,
down to single rows: the rows that are accepted are written, the ones refused alone come back as
dead letters (O(k log n) statements for k bad rows in n). When the statement fails for any
other reason (the database is unreachable, times out, or the table is missing) nothing is split
and the error goes up: the batch stays buffered for the next flush, and nothing is set aside
because of an outage.

Statements run outside any transaction (each commits on its own), so a refused half does not
undo an accepted one.
"""

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from app.usage.dead_letters import DeadLetter
from app.usage.model import UsageKind, Use
from app.usage.writer import by_kind, write_kind

# SQLSTATE classes that are about the values of the rows: 22 data exception (a value too long, out
# of range, not of the type), 23 integrity constraint violation (a CHECK, NOT NULL, a trigger's
# refusal). Everything else (08 connection, 57 cancelled or shut down, 42 schema...) is not the rows' fault.
REFUSAL_SQLSTATE_CLASSES = frozenset({"22", "23"})


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_refusal(error: BaseException) -> bool:
    """True when the database (or the driver, encoding a value) refused the rows' values."""
    for cause in _chain(error):
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate:
            return sqlstate[:2] in REFUSAL_SQLSTATE_CLASSES
        if isinstance(cause, sqlite3.IntegrityError | sqlite3.DataError):
            return True
        # A value the driver cannot encode (an integer beyond 64 bits, a wrong type): asyncpg's
        # client-side DataError is a ValueError; sqlite3 raises OverflowError.
        if isinstance(cause, OverflowError | ValueError | TypeError):
            return True
    return False


@dataclass
class WriteOutcome:
    changed: int = 0
    refused: list[DeadLetter] = field(default_factory=list)

    def add(self, other: "WriteOutcome") -> None:
        self.changed += other.changed
        self.refused += other.refused


async def write_isolating(uses: Sequence[Use]) -> WriteOutcome:
    """Write what the database accepts; return what it refused, row by row, as dead letters."""
    outcome = WriteOutcome()
    for kind, rows in by_kind(uses).items():
        outcome.add(await _write_halves(kind, rows))
    return outcome


async def _write_halves(kind: UsageKind, rows: Sequence[Use]) -> WriteOutcome:
    try:
        return WriteOutcome(await write_kind(kind, rows))
    except Exception as error:
        if not is_refusal(error):
            raise
        if len(rows) == 1:
            return WriteOutcome(0, [DeadLetter.refused(rows[0], error)])
    middle = len(rows) // 2
    outcome = await _write_halves(kind, rows[:middle])
    outcome.add(await _write_halves(kind, rows[middle:]))
    return outcome
