"""Whether a credential may be used: the one place that decides it.

Each kind of credential (management token, API key, session) is judged by the same rules in the
same order, as Unkey's key verification reads: found → revoked → expired → IP → scope. The first
rule that refuses names the state; a credential no rule refuses is ACTIVE.

Every rule that depends only on the stored row exists in three forms built side by side here: a
Python test on a row (`state_of`), an SQL condition for hand-written statements (`usable_sql`),
and a Tortoise filter (`usable_q`, `in_state_q`). tests/test_credential_state.py holds them to
agree on real SQLite and PostgreSQL rows.

Adding a rule (EXPIRED for management tokens, an IP allowlist, a project scope) is a change in
this module: a `Rule`, its place in `ORDER`, and the kinds whose table has its column.

The last two rules judge the request as well as the row, so they are not states of the row (its
`status` stays ACTIVE) but refusals of one request (`Refusal`):
- **IP**: the credential's allowlist (read by the one lookup, kept in the credential cache) against
  the client address after the trusted-proxy rules (`ip_refusal`), at authentication, before the
  use is recorded.
- **scope**: a management token's project ids (read by the same lookup, carried by its Principal)
  against the project a request acts on (`in_scope`), or as a filter on what a list shows
  (`scope_q`, `scope_sql`), in the services that touch projects and their keys.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from app.security.ip_allowlist import Allowlist
from app.sql_dialect import Dialect, read_time


class CredentialState(enum.Enum):
    """What the console and the API show as a credential's `status`."""

    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class Rule:
    """One check on a stored row; `column` is what a kind's table must have for the rule to apply."""

    state: CredentialState
    column: str

    def refuses(self, row: Any, now: datetime) -> bool:
        raise NotImplementedError

    def passes_sql(self, alias: str, now_sql: str) -> str:
        """True (never NULL) for a row this rule lets through; `now_sql` is the SQL time it is judged at."""
        raise NotImplementedError

    def passes_q(self, now: datetime) -> Q:
        raise NotImplementedError

    def _sql_column(self, alias: str) -> str:
        return f"{alias}.{self.column}" if alias else self.column


class SetWhenRefused(Rule):
    """Refused once the column is set (revoked_at)."""

    def refuses(self, row: Any, now: datetime) -> bool:
        return _column(row, self.column) is not None

    def passes_sql(self, alias: str, now_sql: str) -> str:
        return f"{self._sql_column(alias)} IS NULL"

    def passes_q(self, now: datetime) -> Q:
        return Q(**_lookup(f"{self.column}__isnull", True))


class RefusedFromTime(Rule):
    """Refused from the time the column holds on (expires_at); NULL: never."""

    def refuses(self, row: Any, now: datetime) -> bool:
        at = read_time(_column(row, self.column))
        return at is not None and at <= now

    def passes_sql(self, alias: str, now_sql: str) -> str:
        column = self._sql_column(alias)
        return f"({column} IS NULL OR {column} > {now_sql})"

    def passes_q(self, now: datetime) -> Q:
        return Q(**_lookup(f"{self.column}__isnull", True)) | Q(**_lookup(f"{self.column}__gt", now))


REVOKED = SetWhenRefused(CredentialState.REVOKED, "revoked_at")
EXPIRED = RefusedFromTime(CredentialState.EXPIRED, "expires_at")

# The order the rules are checked in. IP and scope checks come after EXPIRED; they judge the
# request (its client address, the project it acts on) as well as the row.
ORDER: tuple[Rule, ...] = (REVOKED, EXPIRED)


class Refusal(enum.Enum):
    """Why a found credential is refused, when the caller is told why.

    EXPIRED is the row rule of that name, told apart from unknown and revoked so that verify and
    the 401 can say so (it never changes back: an expiry is moved earlier, never later). The
    others are the request rules after EXPIRED: the credential is usable, but not for this request.
    """

    EXPIRED = "EXPIRED"
    IP_NOT_ALLOWED = "IP_NOT_ALLOWED"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"


# The request rules, checked in this order after the row rules of `ORDER`.
REQUEST_ORDER: tuple[Refusal, ...] = (Refusal.IP_NOT_ALLOWED, Refusal.OUT_OF_SCOPE)


def ip_refusal(allowlist: Allowlist | None, client_ip: str | None) -> Refusal | None:
    """IP_NOT_ALLOWED when the credential has an allowlist that does not hold the client address.

    `client_ip` is the address after the trusted-proxy rules (`app.http.authentication.client_ip`);
    an unknown address (None) is allowed by no allowlist.
    """
    if allowlist is None or allowlist.allows(client_ip):
        return None
    return Refusal.IP_NOT_ALLOWED


Scope = frozenset[int] | None  # a management token's project ids; None: every project of the workspace


def in_scope(scope: Scope, project_id: int) -> bool:
    return scope is None or project_id in scope


def scope_q(scope: Scope, field: str = "id") -> Q:
    """Tortoise filter: the project (by `field`, its id or a key's project_id) is in scope."""
    return Q() if scope is None else Q(**_lookup(f"{field}__in", sorted(scope)))


def scope_sql(scope: Scope, column: str) -> str:
    """SQL condition: `column` (a project id) is in scope. The ids are integers read from our own rows."""
    if scope is None:
        return "TRUE"
    if not scope:
        return "FALSE"
    return f"{column} IN ({', '.join(str(int(pk)) for pk in sorted(scope))})"


class CredentialKind(enum.Enum):
    """A kind of credential, by the columns its table has for the rules."""

    MANAGEMENT_TOKEN = ("management_token", frozenset({"revoked_at", "expires_at"}))
    API_KEY = ("api_key", frozenset({"expires_at"}))
    SESSION = ("session", frozenset({"revoked_at", "expires_at"}))

    def __init__(self, table: str, columns: frozenset[str]) -> None:
        self.table = table
        self.rules = tuple(rule for rule in ORDER if rule.column in columns)
        self.columns = tuple(rule.column for rule in self.rules)  # what `state_of` reads from a row


def state_of(kind: CredentialKind, row: Any, now: datetime) -> CredentialState:
    """The state of a found credential (a model or a row read as a dict), judged at `now`."""
    for rule in kind.rules:
        if rule.refuses(row, now):
            return rule.state
    return CredentialState.ACTIVE


def is_usable(kind: CredentialKind, row: Any, now: datetime) -> bool:
    return state_of(kind, row, now) is CredentialState.ACTIVE


def usable_sql(kind: CredentialKind, dialect: Dialect, alias: str, now_param: int | None) -> str:
    """SQL condition: the row (table alias `alias`, "" for none) is ACTIVE at parameter `now_param`.

    `now_param` may be None only for kinds whose rules do not read the time.
    """
    now_sql = dialect.time_param(now_param) if now_param is not None else ""
    conditions = [rule.passes_sql(alias, now_sql) for rule in kind.rules]
    return " AND ".join(conditions) if conditions else "TRUE"


def usable_q(kind: CredentialKind, now: datetime) -> Q:
    """Tortoise filter: ACTIVE at `now`."""
    return Q(*(rule.passes_q(now) for rule in kind.rules))


def in_state_q(kind: CredentialKind, state: CredentialState, now: datetime) -> Q:
    """Tortoise filter: in `state` at `now` (the earlier rules pass, this one refuses)."""
    if state is CredentialState.ACTIVE:
        return usable_q(kind, now)
    passed: list[Q] = []
    for rule in kind.rules:
        if rule.state is state:
            return Q(*passed, ~rule.passes_q(now))
        passed.append(rule.passes_q(now))
    return Q(id__in=[])  # this kind never is in that state


def revocation(now: datetime) -> dict[str, Any]:
    """The columns revoking a management token sets: it is revoked and its name is free again.

    `active_name` is the name while the token is active and not replaced (its unique index keeps
    live names distinct), so revoking always releases it.
    """
    return {"revoked_at": now, "active_name": None}


def revocation_sql(now_sql: str) -> str:
    """`revocation` as an SQL SET list, with `now_sql` as the time."""
    return ", ".join(
        f"{column} = {now_sql if value is not None else 'NULL'}" for column, value in revocation(_NOW).items()
    )


_NOW = datetime.min  # a stand-in time for building `revocation_sql`


def _lookup(name: str, value: Any) -> dict[str, Any]:
    return {name: value}


def _column(row: Any, column: str) -> Any:
    return row[column] if isinstance(row, Mapping) else getattr(row, column)
