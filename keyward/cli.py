"""`keyward serve | migrate | worker | stale-sweep | stale-report | scan`."""

import argparse
import asyncio
import logging
import signal
import sys

from app.settings import get_settings


def _uses_dropped_exit(signum: int, frame: object) -> None:
    """After uvicorn's graceful SIGTERM shutdown: exit 1 when buffered uses were dropped, else die of SIGTERM as usual.

    uvicorn restores the handler it found and raises the signal again once it has shut down.
    """
    from app.usage.runtime import uses_dropped_at_shutdown

    if uses_dropped_at_shutdown():
        raise SystemExit(1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.raise_signal(signal.SIGTERM)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    signal.signal(signal.SIGTERM, _uses_dropped_exit)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level=args.log_level,
    )
    from app.usage.runtime import uses_dropped_at_shutdown

    return 1 if uses_dropped_at_shutdown() else 0


def _migrate(args: argparse.Namespace) -> int:
    from app import db

    asyncio.run(db.migrate())
    print("Database is up to date.")
    return 0


def _worker(args: argparse.Namespace) -> int:
    redis_url = get_settings().redis_url
    if not redis_url:
        print(
            "keyward worker needs Redis: set KEYWARD_REDIS_URL (without it `keyward serve` flushes and sweeps itself).",
            file=sys.stderr,
        )
        return 2
    from workers.reconnecting import run_worker
    from workers.settings import WorkerSettings

    run_worker(WorkerSettings, redis_url=redis_url, burst=args.burst)
    return 0


async def _sweep_once() -> dict[str, object]:
    from workers import context, jobs

    ctx: dict[str, object] = {}
    await context.startup(ctx)
    try:
        return await jobs.stale_sweep(ctx)
    finally:
        await context.shutdown(ctx)


def _stale_sweep(args: argparse.Namespace) -> int:
    result = asyncio.run(_sweep_once())
    print(
        f"Stale sweep {result['sweep_id']}: {result['stale']} stale token(s), {result['flagged']} newly flagged, "
        f"{result['revoked']} revoked, {result['reports']} report(s) written."
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
    try:
        reports = asyncio.run(_load_reports(workspace_id))
    except NotFound:
        print(f"--workspace: workspace {args.workspace} does not exist.", file=sys.stderr)
        return 1
    sys.stdout.write(render(reports, args.format))
    return 0


async def _load_reports(workspace_id: int | None) -> list[object]:
    from tortoise import Tortoise

    from app import db
    from app.services.stale_reports import newest_reports

    await Tortoise.init(config=db.tortoise_config())
    try:
        return list(await newest_reports(workspace_id))
    finally:
        await Tortoise.close_connections()


def _scan(args: argparse.Namespace) -> int:
    from app.scan import run

    return run(args.paths, args.report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="keyward", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="Run the API (GraphQL at /graphql).")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="Apply the database migrations.")
    migrate.set_defaults(run=_migrate)

    worker = commands.add_parser("worker", help="Run the arq worker (needs KEYWARD_REDIS_URL): flush and sweep.")
    worker.add_argument("--burst", action="store_true", help="Run what is due (a flush) and queued, then exit.")
    worker.set_defaults(run=_worker)

    sweep = commands.add_parser("stale-sweep", help="Flag, report and (if the workspace asks) revoke stale tokens now.")
    sweep.set_defaults(run=_stale_sweep)

    report = commands.add_parser("stale-report", help="Print the newest stale-token report.")
    report.add_argument("--workspace", help="Workspace id (number or GraphQL ID); default: every workspace")
    report.add_argument("--format", choices=["table", "json", "csv"], default="table")
    report.set_defaults(run=_stale_report)

    scan = commands.add_parser("scan", help="Find Keyward secrets in files and folders (exit 1 when found).")
    scan.add_argument("paths", nargs="+", metavar="PATH")
    scan.add_argument("--report", metavar="URL", help="Send what was found to a Keyward server's /v1/leaks URL.")
    scan.set_defaults(run=_scan)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
