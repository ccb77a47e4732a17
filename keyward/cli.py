"""`keyward serve | migrate | worker | create-owner | stale-sweep | stale-report | scan | check | config`."""

import argparse
import asyncio
import getpass
import logging
import os
import shutil
import signal
import sys
import tempfile
from typing import TYPE_CHECKING, Any

from app.settings import Settings, get_settings
from app.settings_errors import ConfigurationError, load_settings, redact, unknown_variable_warnings

log = logging.getLogger("keyward")

if TYPE_CHECKING:
    from app.services.stale_reports import ReportView


def _uses_dropped_exit(signum: int, frame: object) -> None:
    """After uvicorn's graceful SIGTERM shutdown: exit 1 when buffered uses were dropped, else die of SIGTERM as usual.

    uvicorn restores the handler it found and raises the signal again once it has shut down.
    """
    from app.usage.runtime import uses_dropped_at_shutdown

    if uses_dropped_at_shutdown():
        raise SystemExit(1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.raise_signal(signal.SIGTERM)


# With --workers, uvicorn kills a worker that does not answer its health check within this time and
# starts another. Its default (5 s) is shorter than a worker's start on a busy host (a new
# interpreter importing the app): workers were killed while starting, over and over.
WORKER_HEALTHCHECK_SECONDS = 30


def _database_ready(settings: Settings, *, migrate_embedded: bool = False) -> None:
    """Fail now, in one line, if the database cannot be reached or is not migrated."""
    from app import db
    from app.database_check import check_database, check_migrated

    asyncio.run(check_database(settings.database_url))
    if migrate_embedded and db.is_embedded(settings.database_url):
        # Once, here, before any worker process starts: the workers then find nothing to do.
        applied = asyncio.run(db.migrate(settings.database_url))
        if applied:
            log.info("Applied %s.", ", ".join(applied))
    else:
        asyncio.run(check_migrated(settings.database_url))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.http.header_limit import HeaderBoundedHttpToolsProtocol
    from app.observability.exposition import MULTIPROC_ENV
    from app.observability.logs import logging_config

    settings = get_settings()
    _database_ready(settings, migrate_embedded=True)
    signal.signal(signal.SIGTERM, _uses_dropped_exit)
    # Several worker processes share one port: each writes its metrics to files in one folder,
    # and whichever answers GET /metrics reads them all (prometheus-client's multiprocess mode).
    metrics_dir = None
    if settings.metrics and args.workers > 1 and not os.environ.get(MULTIPROC_ENV):
        metrics_dir = tempfile.mkdtemp(prefix="keyward-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir
    try:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            log_level=args.log_level,
            log_config=logging_config(settings.log_format, args.log_level),
            http=HeaderBoundedHttpToolsProtocol,
            h11_max_incomplete_event_size=settings.max_header_bytes,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    from app.usage.runtime import uses_dropped_at_shutdown

    return 1 if uses_dropped_at_shutdown() else 0


def _migrate(args: argparse.Namespace) -> int:
    from app import db
    from app.database_check import check_database

    asyncio.run(check_database(get_settings().database_url))
    applied = asyncio.run(db.migrate())
    print(f"Applied {', '.join(applied)}." if applied else "Database is up to date.")
    return 0


def _worker(args: argparse.Namespace) -> int:
    redis_url = get_settings().redis_url
    if not redis_url:
        print(
            "keyward worker needs Redis: set KEYWARD_REDIS_URL (without it `keyward serve` flushes and sweeps itself).",
            file=sys.stderr,
        )
        return 2
    _database_ready(get_settings())
    from app.database_check import check_redis_accepts

    asyncio.run(check_redis_accepts(redis_url))  # a wrong password is no outage to wait out
    from workers.jobs import flush_usage
    from workers.reconnecting import run_worker
    from workers.settings import WorkerSettings

    run_worker(WorkerSettings, redis_url=redis_url, burst=args.burst, on_redis_full=flush_usage)
    return 0


def _is_redis_error(exc: BaseException) -> bool:
    """Raised by redis-py (the database's errors never are, nor caused by one)."""
    from redis.exceptions import RedisError

    from app.db_errors import causes

    return any(isinstance(cause, RedisError) for cause in causes(exc))


async def _sweep_once() -> dict[str, object]:
    from workers import context, jobs

    ctx: dict[str, object] = {}
    await context.startup(ctx)
    try:
        return await jobs.stale_sweep(ctx)
    finally:
        await context.shutdown(ctx)


# Uses still in Redis must reach the database before tokens are judged on their last use.
SWEEP_NEEDS_REDIS = "nothing was swept: the uses Redis holds must reach the database before tokens are judged"


def _stale_sweep(args: argparse.Namespace) -> int:
    from app.database_check import RedisUnreachable, check_redis

    settings = get_settings()
    _database_ready(settings)
    if settings.redis_url:
        asyncio.run(check_redis(settings.redis_url, SWEEP_NEEDS_REDIS))
    try:
        result = asyncio.run(_sweep_once())
    except Exception as exc:
        if settings.redis_url and _is_redis_error(exc):
            raise RedisUnreachable.of(settings.redis_url, exc, SWEEP_NEEDS_REDIS) from None
        raise
    print(
        f"Stale sweep {result['sweep_id']}: {result['stale']} stale token(s), {result['flagged']} newly flagged, "
        f"{result['revoked']} revoked, {result['reports']} report(s) written, "
        f"{result['expiring_api_keys']} API key(s) expiring soon listed."
    )
    return 0


def _stale_report(args: argparse.Namespace) -> int:
    from app.services.errors import NotFound
    from keyward.stale_report_output import WORKSPACE_ID_HELP, parse_workspace_id, render

    workspace_id = None
    if args.workspace is not None:
        workspace_id = parse_workspace_id(args.workspace)
        if workspace_id is None:
            print(f"--workspace: {WORKSPACE_ID_HELP}", file=sys.stderr)
            return 2
    _database_ready(get_settings())
    try:
        reports = asyncio.run(_load_reports(workspace_id))
    except NotFound:
        print(f"--workspace: workspace {args.workspace} does not exist.", file=sys.stderr)
        return 1
    sys.stdout.write(render(reports, args.format))
    return 0


async def _load_reports(workspace_id: int | None) -> "list[ReportView]":
    from tortoise import Tortoise

    from app import db
    from app.services.stale_reports import newest_reports

    await Tortoise.init(config=db.tortoise_config())
    try:
        return list(await newest_reports(workspace_id))
    finally:
        await Tortoise.close_connections()


def _owner_password() -> str | None:
    """KEYWARD_OWNER_PASSWORD, else standard input (a prompt on a terminal): never a command-line argument,
    which other users of the machine can read in the process list."""
    from_env = os.environ.get("KEYWARD_OWNER_PASSWORD")
    if from_env:
        return from_env
    if sys.stdin.isatty():
        return getpass.getpass("Password for the owner: ")
    line = sys.stdin.readline()
    return line.rstrip("\r\n") or None


def _create_owner(args: argparse.Namespace) -> int:
    from app.services.account import create_owner
    from app.services.errors import UserInputError

    password = _owner_password()
    if not password:
        print("create-owner: give the password on standard input or in KEYWARD_OWNER_PASSWORD.", file=sys.stderr)
        return 2
    # As every command: a database that cannot be reached or is not migrated is one line, not a traceback;
    # the embedded one migrates itself, as `keyward serve` would, so the first owner can come before the first start.
    _database_ready(get_settings(), migrate_embedded=True)
    try:
        created = asyncio.run(_with_database(create_owner(args.email, args.workspace, password)))
    except UserInputError as error:
        print(f"create-owner: {error.message} ({error.code})", file=sys.stderr)
        return 1 if error.code == "EMAIL_TAKEN" else 2
    print(f"Created {created.user.email}, OWNER of the workspace {created.workspace.name!r}. Log in with its password.")
    return 0


async def _with_database(work: Any) -> Any:
    from tortoise import Tortoise

    from app import db

    await Tortoise.init(config=db.tortoise_config())
    try:
        return await work
    finally:
        await Tortoise.close_connections()


def _scan(args: argparse.Namespace) -> int:
    from app.scan import run

    return run(args.paths, args.report)


def _check(args: argparse.Namespace) -> int:
    from keyward.checks import run_checks

    return run_checks(timeout=args.timeout)


def _config(args: argparse.Namespace) -> int:
    from keyward.settings_report import effective_configuration

    sys.stdout.write(effective_configuration(get_settings(), args.format))
    return 0


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in --help."""


def _command(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]", name: str, text: str
) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=text, description=text, formatter_class=_HelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    from app import keyward_version

    parser = argparse.ArgumentParser(prog="keyward", description=__doc__, formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"keyward {keyward_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = _command(commands, "serve", "Run the API (GraphQL at /graphql).")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="uvicorn's log level (Keyward's own lines stay at info)",
    )
    serve.set_defaults(run=_serve)

    migrate = _command(commands, "migrate", "Apply the database migrations.")
    migrate.set_defaults(run=_migrate)

    worker = _command(commands, "worker", "Run the arq worker (needs KEYWARD_REDIS_URL): flush and sweep.")
    worker.add_argument("--burst", action="store_true", help="Run what is due (a flush) and queued, then exit.")
    worker.set_defaults(run=_worker)

    owner = _command(
        commands,
        "create-owner",
        "Create an account that owns a new workspace (password on stdin or in KEYWARD_OWNER_PASSWORD).",
    )
    owner.add_argument("--email", required=True, help="the owner's email")
    owner.add_argument("--workspace", required=True, metavar="NAME", help="the new workspace's name")
    owner.set_defaults(run=_create_owner)

    sweep = _command(commands, "stale-sweep", "Flag, report and (if the workspace asks) revoke stale tokens now.")
    sweep.set_defaults(run=_stale_sweep)

    report = _command(commands, "stale-report", "Print the newest stale-token report.")
    report.add_argument("--workspace", help="Workspace id (number or GraphQL ID); default: every workspace")
    report.add_argument("--format", choices=["table", "json", "csv"], default="table", help="output format")
    report.set_defaults(run=_stale_report)

    scan = _command(commands, "scan", "Find Keyward secrets in files and folders (exit 1 when found).")
    scan.add_argument("paths", nargs="+", metavar="PATH", help="files and folders to search")
    scan.add_argument("--report", metavar="URL", help="Send what was found to a Keyward server's /v1/leaks URL.")
    scan.set_defaults(run=_scan)

    check = _command(
        commands,
        "check",
        "Validate every setting, connect to the database and Redis, report pending migrations "
        "(exit 1 with one line per problem).",
    )
    check.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each connection")
    check.set_defaults(run=_check)

    config = _command(commands, "config", "Print the effective configuration, secrets masked.")
    config.add_argument("--format", choices=["env", "json"], default="env", help="output format")
    config.set_defaults(run=_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.run is _check:  # `check` reports bad settings itself, one line each
        return int(args.run(args))
    if args.run is not _scan:  # scan reads files, not the settings
        try:
            load_settings()
        except ConfigurationError as exc:
            return _refuse(args.command, exc, status=2)
    from app.observability.logs import configure_logging

    configure_logging(get_settings().log_format)
    if args.run is not _scan:
        for warning in unknown_variable_warnings(os.environ):
            log.warning("%s", warning)
    try:
        return int(args.run(args))
    except Exception as exc:
        if isinstance(exc, _one_line_errors()):
            return _refuse(args.command, exc, status=1)
        raise


def _one_line_errors() -> tuple[type[BaseException], ...]:
    """What a command reports in one line (the operator's to fix), not with a traceback (ours to fix).

    Imported here, not at the top: uvicorn's worker processes import this module first, and must
    answer their supervisor's first health check within seconds.
    """
    from app.database_check import DatabaseNotMigrated, RedisUnreachable
    from app.migrating import MigrationFailed
    from app.migrating.lock import MigrationLockTimeout
    from app.sqlite_client import SqliteFileUnusable

    return (
        ConfigurationError,
        DatabaseNotMigrated,
        MigrationFailed,
        MigrationLockTimeout,
        RedisUnreachable,
        SqliteFileUnusable,
    )


def _refuse(command: str, exc: BaseException, *, status: int) -> int:
    for line in str(exc).splitlines():
        print(f"keyward {command}: {redact(line)}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
