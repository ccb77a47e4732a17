"""The operator's commands: `keyward --version`, `check`, `config`, defaults in every `--help`,
`scripts/keyward`, and the generated configuration reference."""

import argparse
import glob
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import redis as redis_client

from app import keyward_version
from app.settings import Settings
from app.settings_errors import variable_name
from keyward.cli import build_parser
from keyward.settings_reference import render
from tests.support.ports import free_port
from tests.support.required_tools import tool_missing
from tests.support.serve_processes import run_keyward
from tests.support.throwaway_services import throwaway_postgres, throwaway_redis

ROOT = Path(__file__).resolve().parents[1]
# Environment variables the docs name that are not Keyward's settings: the webhook receiver example's secret,
# and the password `keyward create-owner` reads.
NOT_SETTINGS = {"KEYWARD_WEBHOOK_SECRET", "KEYWARD_OWNER_PASSWORD"}
DB_PASSWORD = "db-password-never-printed"
METRICS_TOKEN = "metrics-token-never-printed"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_version() -> None:
    done = subprocess.run([ROOT / "scripts" / "keyward", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"keyward {keyward_version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", keyward_version())


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_help_shows_every_default(command: str) -> None:
    parser = _subcommands()[command]
    text = " ".join(parser.format_help().split())
    for action in parser._actions:
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            assert f"(default: {action.default})" in text, (command, action.dest)


async def test_config_prints_every_setting_with_secrets_masked(database_url: str) -> None:
    url = f"postgres://keyward:{DB_PASSWORD}@db.invalid:5432/keyward"
    status, output = await run_keyward(url, None, "config", metrics_token=METRICS_TOKEN, max_aliases="7")
    assert status == 0, output
    assert DB_PASSWORD not in output and METRICS_TOKEN not in output
    lines = dict(line.split("=", 1) for line in output.splitlines())
    assert set(lines) == {variable_name(name) for name in Settings.model_fields}
    assert lines["KEYWARD_DATABASE_URL"] == "postgres://keyward:***@db.invalid:5432/keyward"
    assert lines["KEYWARD_METRICS_TOKEN"] == "***"
    assert lines["KEYWARD_MAX_ALIASES"] == "7"
    assert lines["KEYWARD_MAX_QUERY_DEPTH"] == "12  # default"


async def test_check_passes_on_a_migrated_database_and_a_live_redis(database_url: str, redis_url: str) -> None:
    status, output = await run_keyward(database_url, redis_url, "check")
    assert status == 0, output
    assert "ok: settings valid" in output
    assert "reachable, every migration applied" in output
    assert re.search(r"ok: redis redis://\S+: reachable", output)


async def test_check_reports_each_bad_setting_on_one_line(database_url: str) -> None:
    status, output = await run_keyward(database_url, None, "check", max_aliases="0", log_format="xml")
    assert status == 1
    problems = [line for line in output.splitlines() if line.startswith("problem: ")]
    # the lines every command prints for a bad setting: the variable, the value given, what is wrong
    assert any(line.startswith("problem: KEYWARD_MAX_ALIASES='0': ") for line in problems), output
    assert any(line.startswith("problem: KEYWARD_LOG_FORMAT='xml': ") for line in problems), output
    assert "Traceback" not in output


async def test_check_reports_a_bad_redis_url_without_its_password(database_url: str) -> None:
    # redis-py refuses the port when it connects, and would ignore the database and use database 0
    for url, reason in (
        ("redis://:secret-pw@127.0.0.1:99999/0", "the port is not a number from 1 to 65535"),
        ("redis://:secret-pw@127.0.0.1:6379/zero", "the database after the host is not a number"),
    ):
        status, output = await run_keyward(database_url, url, "check")
        assert status == 1
        assert re.search(
            rf"^problem: KEYWARD_REDIS_URL='redis://:\*\*\*@127\.0\.0\.1:\d+/\w+': {reason}", output, re.M
        ), output
        assert "Traceback" not in output and "secret-pw" not in output


async def test_check_reports_an_unreachable_redis_and_a_bad_schedule(database_url: str) -> None:
    nobody = f"redis://:secret-pw@127.0.0.1:{free_port()}/0"
    status, output = await run_keyward(database_url, nobody, "check", "--timeout", "2", stale_sweep_cron="99 * * * *")
    assert status == 1
    assert re.search(r"^problem: redis redis://:\*\*\*@127\.0\.0\.1:\d+/0: cannot connect", output, re.M), output
    assert re.search(r"^problem: KEYWARD_STALE_SWEEP_CRON='99 \* \* \* \*': ", output, re.M), output
    assert "secret-pw" not in output


async def test_check_reports_a_redis_that_refuses_writes(database_url: str) -> None:
    """A Redis that answers PING but refuses every write Keyward makes is a problem, not `reachable`."""
    with throwaway_redis() as full, throwaway_redis() as replica:
        with redis_client.Redis.from_url(full.url) as client:
            client.config_set("maxmemory-policy", "noeviction")
            client.config_set("maxmemory", "1")
        with redis_client.Redis.from_url(replica.url) as client:
            client.replicaof("127.0.0.1", str(full.port))
        for server, reason in (
            (full, r"it is full \(\d+ bytes used of maxmemory 1, policy noeviction\) and refuses writes \(OOM\)"),
            (replica, rf"it is a replica of 127\.0\.0\.1:{full.port} and refuses writes \(READONLY\)"),
        ):
            status, output = await run_keyward(database_url, server.url, "check")
            assert status == 1, output
            assert re.search(rf"^problem: redis redis://\S+: reachable, but {reason}", output, re.M), output
            assert "Traceback" not in output


async def test_check_reports_pending_migrations_and_an_unreachable_database() -> None:
    if shutil.which("initdb") is None and not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        tool_missing("PostgreSQL's server binaries", "`apt-get install postgresql`")
    with throwaway_postgres() as pg:
        status, output = await run_keyward(pg.url, None, "check")
    assert status == 1
    assert re.search(
        r"^problem: database postgres://\S+: \d+ pending migration\(s\), run `keyward migrate`", output, re.M
    )
    nobody = f"postgres://keyward:{DB_PASSWORD}@127.0.0.1:{free_port()}/keyward"
    status, output = await run_keyward(nobody, None, "check", "--timeout", "2")
    assert status == 1
    assert re.search(
        r"^problem: database postgres://keyward:\*\*\*@127\.0\.0\.1:\d+/keyward: cannot connect", output, re.M
    )
    assert DB_PASSWORD not in output


def test_the_configuration_reference_is_generated_from_the_settings() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no Field(description=...)"
    committed = (ROOT / "docs" / "configuration.md").read_text()
    assert committed == render(), "docs/configuration.md is out of date: run scripts/config-reference"
    for name in Settings.model_fields:
        assert f"| `{variable_name(name)}` |" in committed


def test_the_docs_name_only_settings_that_exist() -> None:
    known = {variable_name(name) for name in Settings.model_fields}
    for doc in ("README.md", "docs/operations.md"):
        named = set(re.findall(r"\bKEYWARD_[A-Z0-9_]*[A-Z0-9]\b(?!_?\*)", (ROOT / doc).read_text()))  # not KEYWARD_X_*
        unknown = {name for name in named if not name.startswith("KEYWARD_TEST_")} - known - NOT_SETTINGS
        assert not unknown, f"{doc} names settings that do not exist: {sorted(unknown)}"
    assert "docs/configuration.md" in (ROOT / "README.md").read_text()


def test_the_readmes_commands_name_scripts_that_exist_and_real_subcommands() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash|console)\n(.*?)```", readme, re.S)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands
    subcommands = set(_subcommands())
    for command in commands:
        assert not command.startswith("keyward "), f"not on PATH after the set-up commands: {command}"
        program = command.split()[0]
        if program.startswith("scripts/"):
            assert (ROOT / program).is_file() and (ROOT / program).stat().st_mode & 0o111, command
        if program == "scripts/keyward":
            assert command.split()[1] in subcommands | {"--help", "--version"}, command
