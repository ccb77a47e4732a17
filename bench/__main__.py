"""`python -m bench`: start PostgreSQL and Redis on loopback, run every benchmark, print the table, write JSON.

    python -m bench                 # the full profile; writes bench/results/latest.json and the README table
    python -m bench --quick         # small sizes, a minute or two; writes bench/results/quick.json
    python -m bench --only flush    # one benchmark (repeatable)
    python -m bench --readme        # print the README table of bench/results/latest.json, run nothing

Every figure is judged as a ratio (or a difference) against a baseline measured in the same run.
A benchmark that fails is reported with its error and `meets: false`; the others still run.
The exit status is 0 when every benchmark ran (whether or not it met its target), 1 otherwise.
"""

import argparse
import asyncio
import subprocess
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import redis

from bench import database, log, machine, report
from bench.benchmarks import ALL
from bench.context import FULL, QUICK, Bench
from bench.report import Result, Target
from bench.services import services

RESULTS = database.ROOT / "bench" / "results"
README = database.ROOT / "README.md"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs (a smoke run)")
    parser.add_argument("--only", action="append", choices=sorted(ALL), help="run only this benchmark (repeatable)")
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the JSON (default: bench/results/latest.json, or quick.json with --quick)",
    )
    parser.add_argument(
        "--database-url", help="an existing PostgreSQL database to use (it is emptied!) instead of a throwaway cluster"
    )
    parser.add_argument("--redis-url", help="an existing Redis database to use (it is flushed!)")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the README's table")
    parser.add_argument("--readme", action="store_true", help="print the README table of the results file and exit")
    return parser.parse_args(argv)


async def _versions(database_url: str, redis_url: str) -> tuple[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        postgres = str(await conn.fetchval("SHOW server_version")).split()[0]
    finally:
        await conn.close()
    client = redis.Redis.from_url(redis_url)
    try:
        redis_version = str(client.info("server")["redis_version"])
    finally:
        client.close()
    return postgres, redis_version


def _failed(name: str, error: BaseException) -> Result:
    module = ALL[name]
    return Result(
        name=name,
        title=module.TITLE,
        unit="",
        value=None,
        baseline=None,
        target=Target("ratio", ">=", 0),
        error="".join(traceback.format_exception_only(error)).strip(),
    )


async def _run(args: argparse.Namespace) -> int:
    profile = QUICK if args.quick else FULL
    names = args.only or list(ALL)
    out = args.out or RESULTS / ("quick.json" if args.quick else "latest.json")
    log.say(f"profile {profile.name}: {', '.join(names)}")
    with services(args.database_url, args.redis_url) as svc:
        log.say(svc.description)
        if args.database_url:
            await database.drop_schema(svc.database_url)
        database.migrate(svc.database_url)
        redis.Redis.from_url(svc.redis_url).flushdb()
        postgres_version, redis_version = await _versions(svc.database_url, svc.redis_url)
        bench = Bench(profile, svc.database_url, svc.redis_url)
        results: list[Result] = []
        for name in names:
            log.say(f"== {name}")
            try:
                measured = await ALL[name].run(bench)
                results.extend(measured if isinstance(measured, list) else [measured])
            except Exception as exc:  # one broken benchmark must not hide the others' figures
                log.say(f"{name} failed: {exc!r}")
                results.append(_failed(name, exc))
            redis.Redis.from_url(svc.redis_url).flushdb()
    doc = report.document(
        results,
        machine=machine.describe(postgres_version, redis_version),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        profile=profile.name,
        services=svc.description,
        commit=_commit(),
        settings=profile.describe(),
    )
    report.write(doc, out)
    print(report.text_table(doc))
    log.say(f"wrote {out}")
    if not args.quick and not args.only and not args.no_readme and out == RESULTS / "latest.json":
        report.update_readme(README, doc)
        log.say("updated the table in README.md")
    return 0 if all(r.error is None for r in results) else 1


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=database.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.readme:
        import json

        print(report.markdown_table(json.loads((args.out or RESULTS / "latest.json").read_text())))
        return 0
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
