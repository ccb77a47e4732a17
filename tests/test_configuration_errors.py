"""Bad configuration fails fast: every command checks its settings (and reaches its database) before
anything else, and says in one line which setting is wrong and why, never a password, never a
traceback, never a hang. The real CLI in subprocesses, each bounded by a timeout."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import get_args

import annotated_types
import pytest
from pydantic import ValidationError
from tortoise.connection import get_connection

from app.services.webhook_delivery import DeliveryConfig, delivery_round
from app.settings import Settings, get_settings
from app.settings_errors import (
    known_variables,
    redact,
    unknown_variable_warnings,
    validation_error_lines,
    variable_name,
)
from tests.support.api import ALL_PERMISSIONS, CREATE_API_KEY, CREATE_PROJECT, LOG_IN
from tests.support.api import PASSWORD as PASSWORD_OF_TESTS
from tests.support.fresh_database import keyward, keyward_env, one_line_errors, run_postgres
from tests.support.ports import free_port
from tests.support.running_app import running_api

PASSWORD = "pw-N0t-F0r-Any-Output-7731"
COMMANDS = ["serve", "migrate", "worker", "stale-sweep", "stale-report", "create-owner"]
# What each command needs besides its settings.
ARGUMENTS = {"create-owner": ["--email", "owner@example.com", "--workspace", "Acme"]}
# A fast failure: well under this, or the test fails on the timeout (a hang).
SECONDS = 60


def _missing_folder(tmp: Path) -> tuple[dict[str, str], str, str]:
    return {"database_url": f"sqlite://{tmp}/nodir/x.sqlite3"}, "KEYWARD_DATABASE_URL", "nodir' does not exist"


def _wrong_scheme(tmp: Path) -> tuple[dict[str, str], str, str]:
    return (
        {"database_url": f"mysql://keyward:{PASSWORD}@127.0.0.1/keyward"},
        "KEYWARD_DATABASE_URL",
        "unsupported scheme 'mysql'",
    )


def _wrong_port(tmp: Path) -> tuple[dict[str, str], str, str]:
    port = free_port()  # nothing listens there
    return (
        {"database_url": f"postgres://postgres:{PASSWORD}@127.0.0.1:{port}/keyward"},
        "KEYWARD_DATABASE_URL",
        f"cannot connect to 127.0.0.1:{port}: Connection refused",
    )


def _port_not_a_number(tmp: Path) -> tuple[dict[str, str], str, str]:
    return (
        {"database_url": f"postgres://postgres:{PASSWORD}@127.0.0.1:54x2/keyward"},
        "KEYWARD_DATABASE_URL",
        "the port is not a number",
    )


def _redis_port_out_of_range(tmp: Path) -> tuple[dict[str, str], str, str]:
    return (
        {"redis_url": f"redis://:{PASSWORD}@127.0.0.1:99999/0"},
        "KEYWARD_REDIS_URL",
        "the port is not a number from 1 to 65535",
    )


def _redis_database_not_a_number(tmp: Path) -> tuple[dict[str, str], str, str]:
    # redis-py itself would ignore it and use database 0
    return (
        {"redis_url": f"redis://:{PASSWORD}@127.0.0.1:6379/zero"},
        "KEYWARD_REDIS_URL",
        "the database after the host is not a number",
    )


def _timeout_not_finite(tmp: Path) -> tuple[dict[str, str], str, str]:
    # 1e309 reads as infinity: it crashed the API at start (a timer of inf seconds)
    return (
        {"database_acquire_timeout_seconds": "1e309"},
        "KEYWARD_DATABASE_ACQUIRE_TIMEOUT_SECONDS='1e309'",
        "finite number",
    )


def _session_ttl_not_a_number(tmp: Path) -> tuple[dict[str, str], str, str]:
    return {"session_ttl_hours": "twelve"}, "KEYWARD_SESSION_TTL_HOURS='twelve'", "valid number"


def _invalid_cron(tmp: Path) -> tuple[dict[str, str], str, str]:
    return {"stale_sweep_cron": "every day"}, "KEYWARD_STALE_SWEEP_CRON='every day'", "expected 5 fields"


def _settle_shorter_than_the_flush(tmp: Path) -> tuple[dict[str, str], str, str]:
    # it read "kEYWARD_STALE_SWEEP_SETTLE_SECONDS must be…", without the value
    return (
        {"stale_sweep_settle_seconds": "5", "usage_flush_seconds": "10"},
        "KEYWARD_STALE_SWEEP_SETTLE_SECONDS='5'",
        "a wait shorter than KEYWARD_USAGE_FLUSH_SECONDS (10) judges tokens",
    )


def _public_url_without_scheme(tmp: Path) -> tuple[dict[str, str], str, str]:
    # every invitation link read "keyward.example.com/#/accept-invitation/kwi_…", which no browser opens
    return (
        {"public_url": "keyward.example.com"},
        "KEYWARD_PUBLIC_URL='keyward.example.com'",
        "expected the console's address with its scheme",
    )


def _smtp_sender_empty(tmp: Path) -> tuple[dict[str, str], str, str]:
    # every mailed invitation answered 500: the mail library refuses a message without a sender
    return {"smtp_from": "Keyward <>"}, "KEYWARD_SMTP_FROM='Keyward <>'", "expected a sender address"


def _leak_reports_rate_of_zero(tmp: Path) -> tuple[dict[str, str], str, str]:
    # POST /v1/leaks answered 429 to every report, for ever
    return {"leaks_rate_limit": "0/minute"}, "KEYWARD_LEAKS_RATE_LIMIT='0/minute'", "at least 1 request per window"


def _proxy_network_malformed(tmp: Path) -> tuple[dict[str, str], str, str]:
    # uvicorn trusted nobody for it, silently: every client had the proxy's address
    return (
        {"forwarded_allow_ips": "127.0.0.1, 10.0.0.0/33"},
        "KEYWARD_FORWARDED_ALLOW_IPS='127.0.0.1, 10.0.0.0/33'",
        "'10.0.0.0/33' is no IP address or network",
    )


def _flush_lease_too_short(tmp: Path) -> tuple[dict[str, str], str, str]:
    # a lease of 0.05 s expired before a round of a backlog was written: no flush ever completed
    return (
        {"usage_flush_lease_seconds": "0.05"},
        "KEYWARD_USAGE_FLUSH_LEASE_SECONDS='0.05'",
        "greater than or equal to 1",
    )


CASES: dict[str, Callable[[Path], tuple[dict[str, str], str, str]]] = {
    "missing SQLite folder": _missing_folder,
    "wrong scheme": _wrong_scheme,
    "wrong port": _wrong_port,
    "port not a number": _port_not_a_number,
    "Redis port out of range": _redis_port_out_of_range,
    "Redis database not a number": _redis_database_not_a_number,
    "timeout not finite": _timeout_not_finite,
    "session TTL not a number": _session_ttl_not_a_number,
    "invalid sweep cron": _invalid_cron,
    "sweep settle shorter than the flush": _settle_shorter_than_the_flush,
    "public URL without a scheme": _public_url_without_scheme,
    "SMTP sender without an address": _smtp_sender_empty,
    "leak reports rate of zero": _leak_reports_rate_of_zero,
    "proxy network malformed": _proxy_network_malformed,
    "flush lease too short": _flush_lease_too_short,
}


def _environment(tmp_path: Path, settings: dict[str, str]) -> dict[str, str]:
    # A working SQLite file unless the case breaks the URL; a Redis URL with the password in every
    # case (the worker needs one), that nothing ever connects to.
    base = {
        "database_url": f"sqlite://{tmp_path / 'keyward.sqlite3'}",
        "redis_url": f"redis://:{PASSWORD}@127.0.0.1:1/0",
    }
    merged = base | settings
    return keyward_env(merged.pop("database_url"), **merged)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_setting_stops_every_command_with_one_line(tmp_path: Path, case: str, command: str) -> None:
    settings, names, reason = CASES[case](tmp_path)
    # when a command starts with the bad setting
    env = _environment(tmp_path, settings) | {"KEYWARD_OWNER_PASSWORD": "correct horse battery"}
    done = keyward(command, *ARGUMENTS.get(command, []), env=env, cwd=tmp_path, timeout=SECONDS)
    # then it exits non-zero, within seconds, with one line naming the setting and the reason
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    errors = one_line_errors(done.stderr, command)
    assert len(errors) == 1, output
    assert names in errors[0] and reason in errors[0], errors[0]
    assert "Traceback" not in output
    # and the password of a URL appears nowhere
    assert PASSWORD not in output


@pytest.mark.skipif(run_postgres() is None, reason="needs the run's PostgreSQL server (KEYWARD_TEST_DATABASE_URL)")
@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_a_database_name_that_does_not_exist_is_named(tmp_path: Path, command: str) -> None:
    server = run_postgres()
    assert server is not None
    head, _, _ = server.rpartition("/")
    user_and_host = head.split("://", 1)[1].split("@")[-1]
    url = f"postgres://postgres:{PASSWORD}@{user_and_host}/kw_no_such_database"
    done = keyward(command, env=keyward_env(url), cwd=tmp_path, timeout=SECONDS)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    errors = one_line_errors(done.stderr, command)
    assert len(errors) == 1 and "database 'kw_no_such_database' does not exist" in errors[0], output
    assert PASSWORD not in output and "Traceback" not in output


FLOAT_SETTINGS = [
    name for name, info in Settings.model_fields.items() if float in (info.annotation, *get_args(info.annotation))
]


@pytest.mark.parametrize("value", ["1e309", "-1e309", "inf", "nan"])
def test_no_number_setting_takes_infinity_or_nan(value: str) -> None:
    assert len(FLOAT_SETTINGS) > 10  # every number setting with a fraction: timeouts, intervals, days
    for name in FLOAT_SETTINGS:
        with pytest.raises(ValidationError, match="finite number"):
            Settings(**{name: value})  # type: ignore[arg-type]


NUMBER_SETTINGS = [
    name for name, info in Settings.model_fields.items() if {int, float} & {info.annotation, *get_args(info.annotation)}
]


@pytest.mark.parametrize("value", ["99999999999999999999", "1e300"])
def test_every_number_setting_has_an_upper_bound(value: str) -> None:
    # 1e300 is finite: a session of 1e300 hours crashed signUp, 10^20 log-in attempts crashed logIn, a
    # webhook claim of 1e300 s crashed the start with a traceback; all passed `keyward check`
    assert len(NUMBER_SETTINGS) > 30
    for name in NUMBER_SETTINGS:
        with pytest.raises(ValidationError) as raised:
            Settings(**{name: value})  # type: ignore[arg-type]
        lines = validation_error_lines(raised.value)
        assert len(lines) == 1 and lines[0].startswith(f"{variable_name(name)}={value!r}: "), lines
        # (an int setting reads 1e300 as no integer at all)
        assert "less than or equal to" in lines[0] or "valid integer" in lines[0], lines


def _largest(name: str) -> str:
    bound = next(item.le for item in Settings.model_fields[name].metadata if isinstance(item, annotated_types.Le))
    return str(bound)


async def test_every_number_setting_at_its_largest_serves_every_kind_of_request(database_url: str) -> None:
    largest = {name: _largest(name) for name in NUMBER_SETTINGS}
    largest["webhook_delivery_seconds"] = "0"  # the test delivers by hand
    async with running_api(database_url, **largest) as api:
        settings = get_settings()
        # the waits reach the database as given (SQLite read a busy timeout past 2^31 ms as no wait at all)
        connection = get_connection("default")
        if connection.capabilities.dialect == "sqlite":
            rows = await connection.execute_query_dict("PRAGMA busy_timeout")
            assert rows[0]["timeout"] == round(settings.database_acquire_timeout_seconds * 1000)
        else:
            rows = await connection.execute_query_dict("SHOW statement_timeout")
            assert rows[0]["statement_timeout"] != "0"
        owner = await api.sign_up()
        wrong = await api.gql(LOG_IN, {"input": {"email": owner.email, "password": "not the password at all"}})
        assert wrong["data"]["logIn"]["userErrors"], wrong
        await api.ok(LOG_IN, {"input": {"email": owner.email, "password": PASSWORD_OF_TESTS}})
        await api.invite(owner, "ADMIN")
        _, token = await api.create_token(owner, ALL_PERMISSIONS)
        project = await api.ok(CREATE_PROJECT, {"input": {"name": "p"}}, token)
        key = await api.ok(
            CREATE_API_KEY, {"input": {"projectId": project["createProject"]["project"]["id"], "name": "k"}}, token
        )
        verified = await api.http.post("/v1/keys/verify", json={"key": key["createApiKey"]["secret"]})
        assert verified.status_code == 200 and verified.json()["valid"], verified.text
        await delivery_round(DeliveryConfig.from_settings(settings), timedelta(days=settings.webhook_retention_days))


def test_a_misspelled_variable_is_named_with_the_closest_setting(tmp_path: Path) -> None:
    # given a typo in the database variable (and the test suite's own variables, as in every run)
    env = keyward_env(f"sqlite://{tmp_path / 'keyward.sqlite3'}")
    env["KEYWARD_DATABSE_URL"] = f"postgres://postgres:{PASSWORD}@127.0.0.1/keyward"
    env["KEYWARD_TEST_PORTS"] = "18400-18599"
    # when migrating
    done = keyward("migrate", env=env, cwd=tmp_path, timeout=SECONDS)
    # then it warns, naming the variable it was probably meant to be, and nothing about the suite's own
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "KEYWARD_DATABSE_URL" in line]
    assert len(warnings) == 1 and "did you mean KEYWARD_DATABASE_URL?" in warnings[0], done.stderr
    assert "KEYWARD_TEST_PORTS" not in done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def test_unknown_variable_warnings_leave_settings_and_tooling_variables_alone() -> None:
    tooling = ["KEYWARD_TEST_PORTS", "KEYWARD_TEST_DATABASE_URL", "KEYWARD_TEST_STRICT", "KEYWARD_BENCH_PG_BIN"]
    tooling += ["KEYWARD_FUZZ_EXAMPLES", "KEYWARD_LOAD_SECONDS", "KEYWARD_TIMING_SAMPLES", "PATH"]
    assert unknown_variable_warnings([*known_variables(), *tooling]) == []
    assert unknown_variable_warnings(["KEYWARD_REDIS_URI", "KEYWARD_NOTHING_LIKE_IT"]) == [
        "KEYWARD_NOTHING_LIKE_IT is not a Keyward setting and is ignored",
        "KEYWARD_REDIS_URI is not a Keyward setting and is ignored (did you mean KEYWARD_REDIS_URL?)",
    ]


def test_redact_masks_the_password_of_any_url() -> None:
    text = f"postgres://postgres:{PASSWORD}@db:5432/k and redis://:{PASSWORD}@r:6379/0"
    assert redact(text, environ={}) == "postgres://postgres:***@db:5432/k and redis://:***@r:6379/0"
    # a password the pattern cannot see (an '@' in it) is masked because it is configured
    odd = "p@ss-w0rd-4417"
    assert odd not in redact(f"failed: {odd}", environ={"KEYWARD_DATABASE_URL": f"postgres://u:{odd}@h/db"})
