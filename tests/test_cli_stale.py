"""`keyward stale-sweep`, `keyward stale-report` and `keyward worker`, run as real processes."""

import asyncio
import csv
import io
import os
import sys
from datetime import timedelta

import orjson

from app.clock import utcnow
from app.graphql.ids import pk_of, to_global_id
from app.models import ManagementToken, StaleTokenReport
from app.settings import Settings
from tests.support.api import Api
from tests.support.ports import free_port

REDIS_PASSWORD = "redis-pw-N0t-In-Any-Output-5521"
UPDATE_SETTINGS = """
mutation($input: WorkspaceSettingsInput!) { updateWorkspaceSettings(input: $input) { userErrors { code } } }"""


async def keyward(settings: Settings, *args: str, redis_url: str | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "KEYWARD_DATABASE_URL": settings.database_url}
    env.pop("KEYWARD_REDIS_URL", None)
    if args[0] == "stale-sweep":
        # The sweep waits as long as API processes may hold a use: here they flush every 0.1 s.
        env |= {"KEYWARD_USAGE_FLUSH_SECONDS": "0.1", "KEYWARD_STALE_SWEEP_SETTLE_SECONDS": "0.1"}
    if redis_url:
        env["KEYWARD_REDIS_URL"] = redis_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "keyward",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _stale_world(api: Api) -> tuple[str, str]:
    """Two workspaces; the first revokes after 60 days. Returns their global ids."""
    first, second = await api.sign_up(workspace="First"), await api.sign_up(workspace="Second")
    await api.ok(UPDATE_SETTINGS, {"input": {"staleAfterDays": 30, "autoRevokeStaleAfterDays": 60}}, first.session)
    for account, name, days in [
        (first, "ci-pipeline", 90),
        (first, "rotation", 40),
        (second, "old-script", 100),
    ]:
        token_id, _ = await api.create_token(account, ["VIEW_PROJECTS"], name=name)
        await ManagementToken.filter(id=pk_of(token_id, "ManagementToken")).update(
            created_at=utcnow() - timedelta(days=days, hours=1)
        )
    return first.workspace_id, second.workspace_id


async def test_stale_sweep_then_report_in_every_format(api: Api, settings: Settings) -> None:
    # given stale tokens in two workspaces
    first, second = await _stale_world(api)
    # when an operator runs the sweep
    code, out, err = await keyward(settings, "stale-sweep")
    # then
    assert code == 0, err
    assert "3 stale token(s), 3 newly flagged, 1 revoked, 2 report(s)" in out

    # and the JSON report of one workspace is there for scripts
    code, out, err = await keyward(settings, "stale-report", "--workspace", first, "--format", "json")
    assert code == 0, err
    [report] = orjson.loads(out)
    assert report["workspaceId"] == first and report["staleAfterDays"] == 30
    assert [(e["tokenName"], e["reason"], e["idleDays"], e["autoRevoked"]) for e in report["entries"]] == [
        ("ci-pipeline", "NEVER_USED", 90, True),
        ("rotation", "NEVER_USED", 40, False),
    ]

    # and the numeric workspace id works too; CSV has one row per token
    number = str(pk_of(second, "Workspace"))
    code, out, err = await keyward(settings, "stale-report", "--workspace", number, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["workspaceName"], r["tokenName"], r["idleDays"], r["autoRevoked"]) for r in rows] == [
        ("Second", "old-script", "100", "false"),
    ]

    # and the table shows every workspace's newest report to people
    code, out, err = await keyward(settings, "stale-report")
    assert code == 0, err
    assert "Workspace First" in out and "Workspace Second" in out
    assert "ci-pipeline" in out and "never" in out and "yes" in out


async def test_stale_sweep_with_redis_unreachable_says_so_in_one_line_and_sweeps_nothing(
    api: Api, settings: Settings
) -> None:
    # given stale tokens, and a Redis (which may hold their last uses) that does not answer
    await _stale_world(api)
    redis_url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0"
    # when an operator runs the sweep (it stopped with a redis-py traceback)
    code, out, err = await keyward(settings, "stale-sweep", redis_url=redis_url)
    # then it says in one line why nothing was swept, and nothing was
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("keyward stale-sweep: ")]
    assert len(lines) == 1 and "KEYWARD_REDIS_URL=" in lines[0] and "cannot reach Redis" in lines[0], err
    assert "nothing was swept" in lines[0]
    assert "Traceback" not in err and REDIS_PASSWORD not in err + out
    assert await StaleTokenReport.all().count() == 0
    assert not await ManagementToken.filter(revoked_at__isnull=False).exists()


async def test_stale_report_without_reports_and_with_a_bad_workspace(api: Api, settings: Settings) -> None:
    code, out, _ = await keyward(settings, "stale-report")
    assert code == 0 and out == "No stale-token report yet.\n"
    code, _, err = await keyward(settings, "stale-report", "--workspace", "nonsense")
    assert code == 2 and "--workspace" in err
    code, out, _ = await keyward(settings, "stale-report", "--format", "json")
    assert code == 0 and orjson.loads(out) == []


async def test_stale_report_of_a_workspace_that_does_not_exist_says_so(api: Api, settings: Settings) -> None:
    # given one workspace
    account = await api.sign_up()
    missing = str(pk_of(account.workspace_id, "Workspace") + 1000)
    for value in (missing, to_global_id("Workspace", int(missing))):
        # when a report is asked for another
        code, out, err = await keyward(settings, "stale-report", "--workspace", value)
        # then the command says the workspace does not exist and fails
        assert (code, out) == (1, ""), err
        assert f"--workspace: workspace {value} does not exist.\n" in err
    # and a number no workspace can have is a usage error, not a database error
    code, _, err = await keyward(settings, "stale-report", "--workspace", "9" * 30)
    assert code == 2 and "--workspace" in err and "Traceback" not in err


FORMULA_NAMES = ['=HYPERLINK("http://evil.example","open")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


async def test_csv_cells_never_start_a_formula(api: Api, settings: Settings) -> None:
    # given stale tokens whose names a spreadsheet would run as formulas (tab and CR only in older rows)
    account = await api.sign_up(workspace="=cmd|' /C calc'!A0")
    for i, name in enumerate(FORMULA_NAMES):
        token_id, _ = await api.create_token(account, ["VIEW_PROJECTS"], name=f"token-{i}")
        await ManagementToken.filter(id=pk_of(token_id, "ManagementToken")).update(
            name=name, created_at=utcnow() - timedelta(days=100)
        )
    assert (await keyward(settings, "stale-sweep"))[0] == 0
    # when
    code, out, err = await keyward(settings, "stale-report", "--format", "csv")
    _, as_json, _ = await keyward(settings, "stale-report", "--format", "json")
    # then every such cell starts with an apostrophe (OWASP), and JSON keeps the names as they are
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(r["tokenName"] for r in rows) == sorted("'" + name for name in FORMULA_NAMES)
    assert {r["workspaceName"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    assert {r["autoRevoked"] for r in rows} == {"false"} and {r["lastUsedAt"] for r in rows} == {""}
    [report] = orjson.loads(as_json)
    assert sorted(e["tokenName"] for e in report["entries"]) == sorted(FORMULA_NAMES)


async def test_worker_needs_redis(settings: Settings) -> None:
    code, _, err = await keyward(settings, "worker")
    assert code == 2 and "KEYWARD_REDIS_URL" in err


async def test_keyward_worker_and_arq_cli_flush_usage(redis_api: Api, redis_settings: Settings) -> None:
    # given uses waiting in Redis
    owner = await redis_api.sign_up()
    token_id, secret = await redis_api.create_token(owner, ["VIEW_PROJECTS"])
    await redis_api.ok("{ viewer { kind } }", token=secret)
    # when the worker runs in burst mode, started either way
    code, _, err = await keyward(redis_settings, "worker", "--burst", redis_url=redis_settings.redis_url)
    # then its start-up flush wrote the use
    assert code == 0, err
    row = await ManagementToken.get(id=pk_of(token_id, "ManagementToken"))
    assert row.last_used_at is not None
    first_use = row.last_used_at

    await redis_api.ok("{ viewer { kind } }", token=secret)
    env = {
        **os.environ,
        "KEYWARD_DATABASE_URL": redis_settings.database_url,
        "KEYWARD_REDIS_URL": str(redis_settings.redis_url),
    }
    arq = os.path.join(os.path.dirname(sys.executable), "arq")
    process = await asyncio.create_subprocess_exec(
        arq,
        "workers.settings.WorkerSettings",
        "--burst",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err_bytes = await process.communicate()
    assert process.returncode == 0, err_bytes.decode()
    row = await ManagementToken.get(id=pk_of(token_id, "ManagementToken"))
    assert row.last_used_at is not None and row.last_used_at > first_use
