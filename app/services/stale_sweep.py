"""The stale-token sweep: flag, report, auto-revoke and audit, as set-based SQL in one transaction.

A management token is stale when it is active and has not been used for its workspace's
`stale_after_days` (never used: counted from creation). One run writes one report per workspace
that has stale tokens, flags the tokens (`stale_since`, only once), revokes those idle for at
least `auto_revoke_stale_after_days` when the workspace set it, and audits every new flag and
every revocation with the system as the actor.

A token that expires within `EXPIRING_WITHIN` is listed with reason EXPIRING instead, so the
report warns before things break; it is neither flagged nor revoked (it stops by itself). The
report lists the active API keys that expire within `EXPIRING_WITHIN` too (in a table of their own:
an entry points at a management token), and a workspace with nothing else to report gets a report
for them. Each management token and API key that comes that close to its expiry is announced once,
with a CREDENTIAL_EXPIRING event (`expiry_warned_at` remembers it).

It judges on `last_used_at`, which lags behind the real last use by as long as a use can wait in
an API process's buffer. `sweep_when_usage_settled` therefore judges as of the moment it starts,
but only after that lag has passed and the buffer it can reach is flushed: every use made before
that moment is then in the database, whichever process buffered it.

Running it twice at once or twice in a row is safe:
- PostgreSQL: a transaction-scoped advisory lock makes concurrent sweeps take turns;
- the unique (workspace, sweep_id) on reports makes a replayed run (same sweep id, e.g. an arq
  retry of one cron tick) write nothing twice;
- flags and revocations are conditional UPDATEs (`stale_since IS NULL`, `revoked_at IS NULL`),
  so no token is flagged, revoked or audited twice.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app.clock import utcnow
from app.credentials.epoch import bump_revocation_epoch
from app.models import ApiKey, ManagementToken
from app.observability import metrics
from app.security.principal import SYSTEM
from app.services import events
from app.services.actors import actor_of
from app.services.credential_state import REVOKED, CredentialKind, revocation_sql, usable_q, usable_sql
from app.sql_dialect import Dialect

log = logging.getLogger("keyward.stale_sweep")

ADVISORY_LOCK_KEY = 0x4B57_5357  # "KWSW": one number shared by every Keyward sweep

SYSTEM_ACTOR = actor_of(SYSTEM)

ANALYZE_FROM_ENTRIES = 1000  # below this many new entries, the planner's guess costs nothing

NEVER_USED = "NEVER_USED"
INACTIVE = "INACTIVE"
EXPIRING = "EXPIRING"

# A credential that expires within this long is listed (reason EXPIRING) and announced, never revoked.
EXPIRING_WITHIN = timedelta(days=7)


@dataclass(frozen=True)
class SweepResult:
    sweep_id: str
    report_ids: list[int]
    stale: int  # entries written (stale tokens found in this run)
    flagged: int  # tokens newly flagged
    revoked: int  # tokens revoked by this run
    expiring_api_keys: int = 0  # API keys the reports list as expiring soon


async def sweep_when_usage_settled(
    flush_reachable_usage: Callable[[], Awaitable[object]],
    *,
    settle_seconds: float,
    sweep_id: str | None = None,
) -> SweepResult:
    """Sweep as of now, once every use made before now has reached the database.

    `settle_seconds` is the longest a use can wait in an API process before it reaches the
    database or Redis (their flush interval, plus room for the flush itself); then
    `flush_reachable_usage` writes what this process can reach (its own buffer, or Redis), and the
    sweep judges every token as of the moment it started. A use recorded after that moment never
    makes a token stale; it is in the database too when its flush came before the sweep's query.
    """
    as_of = utcnow()
    if settle_seconds > 0:
        log.info("stale sweep: waiting %.1f s for uses buffered in API processes to reach the database", settle_seconds)
        await asyncio.sleep(settle_seconds)
    await flush_reachable_usage()
    return await observed_sweep(sweep_id=sweep_id, now=as_of)


async def observed_sweep(*, sweep_id: str | None = None, now: datetime | None = None) -> SweepResult:
    """`run_sweep`, counted and timed in the metrics."""
    started = time.perf_counter()
    try:
        result = await run_sweep(sweep_id=sweep_id, now=now)
    except Exception:
        metrics.SWEEPS.labels("failed").inc()
        raise
    metrics.SWEEPS.labels("ok").inc()
    metrics.SWEEP_DURATION.observe(time.perf_counter() - started)
    metrics.SWEEP_LAST.set(time.time())
    return result


async def run_sweep(*, sweep_id: str | None = None, now: datetime | None = None) -> SweepResult:
    """Judge every active token as of `now` (default: this moment) on what the database holds.

    Flags carry `now` (stale as of then); revocations and audit events carry the time they happen.
    """
    now = now or utcnow()
    sweep_id = sweep_id or f"manual:{uuid.uuid4().hex}"
    async with in_transaction("default") as conn:
        d = Dialect.of(conn)
        if d.postgres:
            await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [ADVISORY_LOCK_KEY])
        at = d.time_value(now)

        # A flag whose token is no longer stale under the workspace's current setting (it was
        # raised since) goes away; a use clears it in the flush already.
        await conn.execute_query(
            "UPDATE management_token SET stale_since = NULL WHERE id IN ("  # noqa: S608
            "SELECT t.id FROM management_token t JOIN workspace w ON w.id = t.workspace_id "
            f"WHERE t.stale_since IS NOT NULL AND {_active('t', d)} AND {_idle_days('t', d)} < w.stale_after_days)",
            [at],
        )

        await _announce_expiring(now)
        report_ids, stale, expiring_keys = await _write_reports(
            conn, d, at, sweep_id, d.time_value(now + EXPIRING_WITHIN)
        )
        if not report_ids:  # nothing to report, or this sweep id already reported (a replayed run)
            return SweepResult(sweep_id, [], 0, 0, 0)
        ids = d.ids_value(report_ids)
        if d.postgres and stale >= ANALYZE_FROM_ENTRIES:
            # The next statements join these fresh entries; without statistics the planner guesses
            # their number and picks plans that grow faster than the tokens do.
            await conn.execute_query("ANALYZE stale_token_report_entry")
        recorded_at = d.time_value(utcnow())
        flagged = await _change_and_audit(conn, d, FLAG, report_ids=ids, changed_at=at, recorded_at=recorded_at)
        # Revoked when it happens, even when judged as of an earlier moment.
        revoked = await _change_and_audit(
            conn, d, AUTO_REVOKE, report_ids=ids, changed_at=recorded_at, recorded_at=recorded_at
        )
        await events.sweep_finished(report_ids, using_db=conn)
    if revoked:
        await bump_revocation_epoch()
    return SweepResult(sweep_id, report_ids, stale, flagged, revoked, expiring_keys)


def _active(alias: str, d: Dialect) -> str:
    """The token is active as of the sweep's time (parameter 1): the credential state model's predicate."""
    return usable_sql(CredentialKind.MANAGEMENT_TOKEN, d, alias, 1)


def _idle_days(alias: str, d: Dialect) -> str:
    """Whole days since the token's last use (never used: since its creation) up to the sweep's time."""
    return d.whole_days_between(d.time_param(1), f"COALESCE({alias}.last_used_at, {alias}.created_at)")


def _expiring(alias: str, d: Dialect) -> str:
    """The (active) token or key expires by parameter 3, the end of the warning period."""
    return f"({alias}.expires_at IS NOT NULL AND {alias}.expires_at <= {d.time_param(3)})"


def _stale_tokens(d: Dialect) -> str:
    """The run's entries with what an entry records: active tokens idle for the workspace's stale_after_days,
    and those that expire soon (`expiring`).

    Parameter 1 is the sweep's time, parameter 3 the end of the warning period.
    """
    return (
        f"SELECT m.id, m.workspace_id, m.last_used_at, {_idle_days('m', d)} AS idle, "  # noqa: S608
        f"w.auto_revoke_stale_after_days AS revoke_after, {_expiring('m', d)} AS expiring "
        "FROM management_token m JOIN workspace w ON w.id = m.workspace_id "
        f"WHERE {_active('m', d)} AND ({_idle_days('m', d)} >= w.stale_after_days OR {_expiring('m', d)})"
    )


def _expiring_api_keys(d: Dialect) -> str:
    """The API keys a report lists: active as of the sweep's time (parameter 1; the credential state model's
    predicate) and expiring by the end of the warning period (parameter 3). Nothing else about a key is judged:
    it is never stale, flagged or revoked by the sweep. A deleted key (or one of a deleted project) has no row.
    """
    return (
        "SELECT k.id, k.workspace_id, k.expires_at, k.last_used_at FROM api_key k "  # noqa: S608
        f"WHERE {usable_sql(CredentialKind.API_KEY, d, 'k', 1)} AND {_expiring('k', d)}"
    )


_REPORT_COLUMNS = "workspace_id, generated_at, stale_after_days, sweep_id"
_ENTRY_COLUMNS = "report_id, token_id, reason, last_used_at, idle_days, auto_revoked"
# No ORDER BY: readers sort entries (ENTRY_ORDER).
_ENTRY_VALUES = (
    f"r.id, s.id, CASE WHEN s.expiring THEN '{EXPIRING}' WHEN s.last_used_at IS NULL THEN '{NEVER_USED}' "
    f"ELSE '{INACTIVE}' END, s.last_used_at, s.idle, "
    "CASE WHEN s.expiring THEN FALSE WHEN s.revoke_after IS NOT NULL AND s.idle >= s.revoke_after THEN TRUE "
    "ELSE FALSE END"
)
_KEY_COLUMNS = "report_id, api_key_id, expires_at, last_used_at"
_KEY_VALUES = "r.id, k.id, k.expires_at, k.last_used_at"


async def _write_reports(
    conn: BaseDBAsyncClient, d: Dialect, at: Any, sweep_id: str, warn_until: Any
) -> tuple[list[int], int, int]:
    """One report per workspace with stale tokens or expiring API keys, an entry per stale token and a row per
    expiring key: (report ids, entries, keys).

    A replayed sweep id writes nothing (the unique workspace and sweep id) and returns no reports.
    PostgreSQL does it in one statement that reads the token table once: the stale tokens and the
    expiring keys are computed once (materialized CTEs), the reports inserted from their workspaces, the
    entries and keys from those rows joined with the reports just inserted. Finding the reports'
    workspaces in a statement of their own (EXISTS) hashed the whole token table, which outgrew work_mem
    at a million tokens and made that statement 15 to 20 times slower for 10 times the tokens. SQLite has
    no data-modifying CTE; its three statements run under the one writer lock.
    """
    params = [at, sweep_id, warn_until]
    if d.postgres:
        rows = await conn.execute_query_dict(
            f"WITH s AS MATERIALIZED ({_stale_tokens(d)}), "  # noqa: S608
            f"k AS MATERIALIZED ({_expiring_api_keys(d)}), "
            f"r AS (INSERT INTO stale_token_report ({_REPORT_COLUMNS}) "
            f"SELECT w.id, {d.time_param(1)}, w.stale_after_days, {d.text_param(2)} FROM workspace w "
            "JOIN (SELECT workspace_id FROM s UNION SELECT workspace_id FROM k) sw ON sw.workspace_id = w.id "
            "ON CONFLICT (workspace_id, sweep_id) DO NOTHING RETURNING id, workspace_id), "
            f"e AS (INSERT INTO stale_token_report_entry ({_ENTRY_COLUMNS}) "
            f"SELECT {_ENTRY_VALUES} FROM s JOIN r ON r.workspace_id = s.workspace_id RETURNING report_id), "
            f"x AS (INSERT INTO stale_token_report_api_key ({_KEY_COLUMNS}) "
            f"SELECT {_KEY_VALUES} FROM k JOIN r ON r.workspace_id = k.workspace_id RETURNING report_id) "
            "SELECT r.id AS report_id, COALESCE(ne.n, 0) AS n, COALESCE(nx.n, 0) AS keys FROM r "
            "LEFT JOIN (SELECT report_id, count(*) AS n FROM e GROUP BY report_id) ne ON ne.report_id = r.id "
            "LEFT JOIN (SELECT report_id, count(*) AS n FROM x GROUP BY report_id) nx ON nx.report_id = r.id",
            params,
        )
        return (
            sorted(row["report_id"] for row in rows),
            sum(int(row["n"]) for row in rows),
            sum(int(row["keys"]) for row in rows),
        )
    reports = await conn.execute_query_dict(
        f"INSERT INTO stale_token_report ({_REPORT_COLUMNS}) "  # noqa: S608
        f"SELECT w.id, {d.time_param(1)}, w.stale_after_days, {d.text_param(2)} FROM workspace w "
        f"WHERE w.id IN (SELECT s.workspace_id FROM ({_stale_tokens(d)}) s "
        f"UNION SELECT k.workspace_id FROM ({_expiring_api_keys(d)}) k) "
        "ON CONFLICT (workspace_id, sweep_id) DO NOTHING RETURNING id",
        params,
    )
    report_ids = sorted(row["id"] for row in reports)
    if not report_ids:
        return [], 0, 0
    params = [at, d.ids_value(report_ids), warn_until]
    entries, _ = await conn.execute_query(
        f"INSERT INTO stale_token_report_entry ({_ENTRY_COLUMNS}) "  # noqa: S608
        f"SELECT {_ENTRY_VALUES} FROM ({_stale_tokens(d)}) s "
        f"JOIN stale_token_report r ON r.workspace_id = s.workspace_id WHERE {d.in_ids('r.id', 2)}",
        params,
    )
    keys, _ = await conn.execute_query(
        f"INSERT INTO stale_token_report_api_key ({_KEY_COLUMNS}) "  # noqa: S608
        f"SELECT {_KEY_VALUES} FROM ({_expiring_api_keys(d)}) k "
        f"JOIN stale_token_report r ON r.workspace_id = k.workspace_id WHERE {d.in_ids('r.id', 2)}",
        params,
    )
    return report_ids, entries, keys


@dataclass(frozen=True)
class TokenChange:
    """What the sweep does to some of a run's tokens, and how it audits it."""

    assignment: Callable[[str], str]  # the SET list, given the SQL time it assigns
    still_needed: Callable[[str], str]  # given a table alias ("" for none): the token has not had it yet
    entries: str  # which of the run's entries it applies to, on entry alias `e`
    action: str  # the audit action
    automatic: bool = False  # audited as done automatically (the `automatic` detail)


FLAG = TokenChange(
    assignment=lambda now: f"stale_since = {now}",
    still_needed=lambda alias: f"{alias}.stale_since IS NULL" if alias else "stale_since IS NULL",
    entries=f"AND e.reason <> '{EXPIRING}'",
    action="management_token.flagged_stale",
)
AUTO_REVOKE = TokenChange(
    assignment=revocation_sql,
    still_needed=lambda alias: REVOKED.passes_sql(alias, ""),
    entries="AND e.auto_revoked",
    action="management_token.revoked",
    automatic=True,
)


async def _change_and_audit(
    conn: BaseDBAsyncClient, d: Dialect, change: TokenChange, *, report_ids: Any, changed_at: Any, recorded_at: Any
) -> int:
    """Apply `change` to the run's tokens that still need it, and audit exactly those, without reading them.

    The rows never come to Python, so a sweep over a million tokens holds no more memory than
    one over ten. PostgreSQL does both in one statement (a data-modifying CTE audits what the
    UPDATE returned); SQLite has no such CTE, but its one writer holds the database for this
    transaction, so auditing the same selection just before the UPDATE is as exact.
    """
    # Parameters: 1 the time assigned (`changed_at`), 2 the report ids, 3 when the events are recorded.
    details = d.json_object(
        "name",
        "t.name",
        "keyPrefix",
        "t.key_prefix",
        "reason",
        "e.reason",
        "idleDays",
        "e.idle_days",
        *(("automatic", d.json_true) if change.automatic else ()),
    )
    run_entries = f"{d.in_ids('e.report_id', 2)} {change.entries}"
    update = (
        f"UPDATE management_token SET {change.assignment(d.time_param(1))} "  # noqa: S608
        f"WHERE {change.still_needed('')} "
        f"AND id IN (SELECT e.token_id FROM stale_token_report_entry e WHERE {run_entries})"
    )
    audit = (
        "INSERT INTO audit_event (workspace_id, occurred_at, actor_kind, actor_id, actor_label, action, "  # noqa: S608
        "target_type, target_id, ip_address, details) "
        f"SELECT t.workspace_id, {d.time_param(3)}, '{SYSTEM_ACTOR.kind}', NULL, '{SYSTEM_ACTOR.label}', "
        f"'{change.action}', 'ManagementToken', 'ManagementToken:' || t.id, NULL, {details} "
        f"FROM {{tokens}} t JOIN stale_token_report_entry e ON e.token_id = t.id AND {run_entries} "
        "{where}"
    )
    params = [changed_at, report_ids, recorded_at]
    if d.postgres:
        rows = await conn.execute_query_dict(
            f"WITH t AS ({update} RETURNING id, workspace_id, name, key_prefix), "  # noqa: S608
            f"done AS ({audit.format(tokens='t', where='')} RETURNING 1) SELECT count(*) AS n FROM done",
            params,
        )
        return int(rows[0]["n"])
    await conn.execute_query(audit.format(tokens="management_token", where=f"WHERE {change.still_needed('t')}"), params)
    changed, _ = await conn.execute_query(update, params[:2])
    return changed


async def _announce_expiring(now: datetime) -> None:
    """CREDENTIAL_EXPIRING, once, for each active token and key that expires within EXPIRING_WITHIN of `now`.

    Marked in the same transaction as the events are written (the outbox), so a replayed or
    concurrent run announces nothing twice. Expiries are few next to tokens: these rows come to Python.
    """
    until = now + EXPIRING_WITHIN
    for model, kind in ((ManagementToken, CredentialKind.MANAGEMENT_TOKEN), (ApiKey, CredentialKind.API_KEY)):
        due = await model.filter(
            usable_q(kind, now), expires_at__isnull=False, expires_at__lte=until, expiry_warned_at__isnull=True
        ).order_by("id")
        for credential in due:
            changed = await model.filter(id=credential.id, expiry_warned_at__isnull=True).update(expiry_warned_at=now)
            if changed:
                await events.credential_expiring(credential.workspace_id, credential, credential.expires_at)  # type: ignore[union-attr,arg-type]
