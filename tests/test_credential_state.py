"""The credential state model decides every state, and its three forms agree on real rows.

`state_of` (Python), `usable_sql` (hand-written SQL) and `usable_q` / `in_state_q` (Tortoise
filters) are built side by side in app.services.credential_state. Here they judge the same rows,
written to the suite's database (SQLite, and PostgreSQL when KEYWARD_TEST_DATABASE_URL is set).
"""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from tortoise.connection import get_connection

from app.models import ApiKey, ManagementToken, Membership, Project, Session, User, Workspace
from app.security.ip_allowlist import Allowlist
from app.security.permissions import WorkspaceRole
from app.services import credential_state
from app.services.credential_state import (
    ORDER,
    CredentialKind,
    CredentialState,
    in_state_q,
    state_of,
    usable_q,
    usable_sql,
)
from app.sql_dialect import Dialect

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PAST = NOW - timedelta(days=1)
FUTURE = NOW + timedelta(days=1)


class Row:
    def __init__(self, **columns: Any) -> None:
        self.__dict__.update(columns)


# ---- the rules and their order ---------------------------------------------------------------


def test_the_checks_run_found_revoked_expired_in_that_order() -> None:
    assert [rule.state for rule in ORDER] == [CredentialState.REVOKED, CredentialState.EXPIRED]


@pytest.mark.parametrize(
    ("kind", "columns", "expected"),
    [
        # management tokens: revoked or not
        (CredentialKind.MANAGEMENT_TOKEN, {"revoked_at": None, "expires_at": None}, CredentialState.ACTIVE),
        (CredentialKind.MANAGEMENT_TOKEN, {"revoked_at": PAST, "expires_at": None}, CredentialState.REVOKED),
        (CredentialKind.MANAGEMENT_TOKEN, {"revoked_at": FUTURE, "expires_at": None}, CredentialState.REVOKED),  # set
        # management tokens: revoked first, then expired
        (CredentialKind.MANAGEMENT_TOKEN, {"revoked_at": None, "expires_at": FUTURE}, CredentialState.ACTIVE),
        (CredentialKind.MANAGEMENT_TOKEN, {"revoked_at": None, "expires_at": NOW}, CredentialState.EXPIRED),
        (CredentialKind.MANAGEMENT_TOKEN, {"revoked_at": PAST, "expires_at": PAST}, CredentialState.REVOKED),
        # API keys: deleted, never revoked; found means usable until it expires
        (CredentialKind.API_KEY, {"expires_at": None}, CredentialState.ACTIVE),
        (CredentialKind.API_KEY, {"expires_at": FUTURE}, CredentialState.ACTIVE),
        (CredentialKind.API_KEY, {"expires_at": NOW}, CredentialState.EXPIRED),
        (CredentialKind.API_KEY, {"expires_at": PAST}, CredentialState.EXPIRED),
        # sessions: revoked first, then expired
        (CredentialKind.SESSION, {"revoked_at": None, "expires_at": FUTURE}, CredentialState.ACTIVE),
        (CredentialKind.SESSION, {"revoked_at": None, "expires_at": NOW}, CredentialState.EXPIRED),
        (CredentialKind.SESSION, {"revoked_at": None, "expires_at": PAST}, CredentialState.EXPIRED),
        (CredentialKind.SESSION, {"revoked_at": PAST, "expires_at": FUTURE}, CredentialState.REVOKED),
        (CredentialKind.SESSION, {"revoked_at": PAST, "expires_at": PAST}, CredentialState.REVOKED),
        # a row read by raw SQL on SQLite carries its times as the text Tortoise stored
        (
            CredentialKind.SESSION,
            {"revoked_at": None, "expires_at": "2026-06-01 11:59:59+00:00"},
            CredentialState.EXPIRED,
        ),
        (
            CredentialKind.SESSION,
            {"revoked_at": None, "expires_at": "2026-06-01 12:00:01+00:00"},
            CredentialState.ACTIVE,
        ),
    ],
)
def test_the_state_model_decides_every_state(
    kind: CredentialKind, columns: dict[str, Any], expected: CredentialState
) -> None:
    # given a row with these columns, as a model and as a dict from raw SQL
    # then both judge the same state
    assert state_of(kind, Row(**columns), NOW) is expected
    assert state_of(kind, columns, NOW) is expected


def test_a_kind_is_judged_only_by_the_rules_its_table_has_columns_for() -> None:
    assert CredentialKind.MANAGEMENT_TOKEN.columns == ("revoked_at", "expires_at")
    assert CredentialKind.API_KEY.columns == ("expires_at",)
    assert CredentialKind.SESSION.columns == ("revoked_at", "expires_at")


def test_revoking_releases_the_active_name_in_python_and_in_sql() -> None:
    assert credential_state.revocation(NOW) == {"revoked_at": NOW, "active_name": None}
    assert credential_state.revocation_sql("$1") == "revoked_at = $1, active_name = NULL"


# ---- the SQL predicate, the filters and the function agree on real rows ---------------------


async def _sessions() -> list[Session]:
    workspace = await Workspace.create(name="States")
    user = await User.create(email="states@example.com", password_hash="x")
    membership = await Membership.create(workspace=workspace, user=user, role=WorkspaceRole.OWNER)
    rows = []
    for n, (revoked_at, expires_at) in enumerate(
        itertools.product([None, PAST, FUTURE], [PAST, NOW, FUTURE, NOW + timedelta(microseconds=1)])
    ):
        rows.append(
            await Session.create(
                token_hash=f"{n:064x}", membership=membership, expires_at=expires_at, revoked_at=revoked_at
            )
        )
    return rows


async def _tokens() -> list[ManagementToken]:
    workspace = await Workspace.create(name="Tokens")
    rows = []
    for n, (revoked_at, expires_at) in enumerate(itertools.product([None, PAST, FUTURE], [None, PAST, NOW, FUTURE])):
        rows.append(
            await ManagementToken.create(
                workspace=workspace,
                name=f"t{n}",
                active_name=None if revoked_at else f"t{n}",
                key_prefix="kwm_x",
                token_hash=f"{n:064x}",
                permissions="VIEW_PROJECTS",
                expires_at=expires_at,
                created_by_kind="SYSTEM",
                created_by_label="test",
            )
        )
        await ManagementToken.filter(id=rows[-1].id).update(revoked_at=revoked_at)
    return rows


async def _api_keys() -> list[ApiKey]:
    workspace = await Workspace.create(name="Keys")
    project = await Project.create(workspace=workspace, name="p")
    return [
        await ApiKey.create(
            workspace=workspace,
            project=project,
            name=f"k{n}",
            key_prefix="kwk_x",
            key_hash=f"{n:064x}",
            expires_at=expires_at,
            created_by_kind="SYSTEM",
            created_by_label="test",
        )
        for n, expires_at in enumerate([None, PAST, NOW, FUTURE, NOW + timedelta(microseconds=1)])
    ]


async def _assert_forms_agree(kind: CredentialKind, model: Any) -> None:
    conn = get_connection("default")
    d = Dialect.of(conn)
    # the function, on rows read back through the ORM
    by_python = {row.id: state_of(kind, row, NOW) for row in await model.all()}
    # the function, on rows read by raw SQL (SQLite: times as text)
    raw = await conn.execute_query_dict(f"SELECT id, {', '.join(kind.columns)} FROM {kind.table}")
    assert {row["id"]: state_of(kind, row, NOW) for row in raw} == by_python
    # the SQL predicate (parameter 1 is the time judged at)
    usable_rows = await conn.execute_query_dict(
        f"SELECT id FROM {kind.table} WHERE {usable_sql(kind, d, '', 1)} AND {d.time_param(1)} IS NOT NULL",
        [d.time_value(NOW)],
    )
    expected_usable = {pk for pk, state in by_python.items() if state is CredentialState.ACTIVE}
    assert {row["id"] for row in usable_rows} == expected_usable
    # the Tortoise filters, for every state
    assert set(await model.filter(usable_q(kind, NOW)).values_list("id", flat=True)) == expected_usable
    for state in CredentialState:
        in_state = set(await model.filter(in_state_q(kind, state, NOW)).values_list("id", flat=True))
        assert in_state == {pk for pk, s in by_python.items() if s is state}, state


async def test_sessions_every_form_agrees_on_real_rows(app: Starlette) -> None:
    # given sessions in every combination of revoked and expiry (before, at and after now)
    sessions = await _sessions()
    # then each state occurs, and the function, the SQL predicate and the filters agree
    states = {state_of(CredentialKind.SESSION, row, NOW) for row in sessions}
    assert states == set(CredentialState)
    await _assert_forms_agree(CredentialKind.SESSION, Session)


async def test_management_tokens_every_form_agrees_on_real_rows(app: Starlette) -> None:
    await _tokens()
    states = {state_of(CredentialKind.MANAGEMENT_TOKEN, row, NOW) for row in await ManagementToken.all()}
    assert states == set(CredentialState)
    await _assert_forms_agree(CredentialKind.MANAGEMENT_TOKEN, ManagementToken)


async def test_api_keys_every_form_agrees_on_real_rows(app: Starlette) -> None:
    keys = await _api_keys()
    assert {state_of(CredentialKind.API_KEY, row, NOW) for row in keys} == {
        CredentialState.ACTIVE,
        CredentialState.EXPIRED,
    }
    await _assert_forms_agree(CredentialKind.API_KEY, ApiKey)


# ---- the request rules: IP, then scope ---------------------------------------------------------


def test_the_request_rules_come_after_the_row_rules_ip_then_scope() -> None:
    assert credential_state.REQUEST_ORDER == (
        credential_state.Refusal.IP_NOT_ALLOWED,
        credential_state.Refusal.OUT_OF_SCOPE,
    )


@pytest.mark.parametrize(
    ("stored", "client_ip", "refused"),
    [
        (None, None, False),  # no allowlist: any address, even an unknown one
        (None, "192.0.2.1", False),
        ('["192.0.2.0/24"]', "192.0.2.1", False),
        ('["192.0.2.0/24"]', "::ffff:192.0.2.1", False),  # an IPv4-mapped client is judged as IPv4
        ('["192.0.2.0/24"]', "192.0.3.1", True),
        ('["192.0.2.0/24"]', None, True),  # an unknown address is allowed by no allowlist
        ('["2001:db8::/32"]', "2001:db8:ffff::1", False),
        ('["2001:db8::/32"]', "192.0.2.1", True),
    ],
)
def test_the_ip_rule(stored: str | None, client_ip: str | None, refused: bool) -> None:
    allowlist = Allowlist.from_stored(stored)
    expected = credential_state.Refusal.IP_NOT_ALLOWED if refused else None
    assert credential_state.ip_refusal(allowlist, client_ip) is expected
