"""The benchmark harness itself: verdicts computed, counters that count, a real quick run.

The verdict and parsing tests need nothing. The quick run starts the harness's own throwaway
PostgreSQL cluster and Redis, so it runs once, in the PostgreSQL pass of the suite (with
`KEYWARD_TEST_DATABASE_URL` on PostgreSQL, as `.ci/run` sets it), and needs wrk and initdb.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import load, report
from bench.report import Check, Result, Target
from bench.services import ServiceError, postgres_bindir

ROOT = Path(__file__).resolve().parent.parent


def _result(value: float | None, baseline: float | None, target: Target, *checks: Check) -> Result:
    return Result("row", "a row", "req/s", value, baseline, target, list(checks))


@pytest.mark.parametrize(
    ("value", "baseline", "target", "meets"),
    [
        (600.0, 1000.0, Target("ratio", ">=", 0.5), True),
        (400.0, 1000.0, Target("ratio", ">=", 0.5), False),
        (13.0, 1.0, Target("ratio", "<=", 12), False),
        (11.9, 1.0, Target("ratio", "<=", 12), True),
        (90.0, 71.0, Target("difference", "<", 20, "MB"), True),
        (91.0, 71.0, Target("difference", "<", 20, "MB"), False),
        (None, 1000.0, Target("ratio", ">=", 0.5), False),
    ],
)
def test_meets_is_computed_from_value_baseline_and_target(
    value: float | None, baseline: float, target: Target, meets: bool
) -> None:
    entry = report.entry(_result(value, baseline, target))
    assert entry["meets"] is meets
    assert report.recompute_meets(entry) is meets


def test_a_failed_check_or_an_error_fails_the_row() -> None:
    target = Target("ratio", ">=", 3)
    zero_queries = Check("database queries", 0, "==", 0)
    assert report.entry(_result(9.0, 1.0, target, zero_queries))["meets"] is True
    assert report.entry(_result(9.0, 1.0, target, Check("database queries", 2, "==", 0)))["meets"] is False
    assert report.entry(_result(9.0, 1.0, target, Check("database queries", None, "==", 0)))["meets"] is False
    errored = _result(9.0, 1.0, target)
    errored.error = "wrk exited with 1"
    assert report.entry(errored)["meets"] is False


def test_wrk_summary_line_is_parsed() -> None:
    line = (
        'KEYWARD_BENCH {"requests": 1200, "duration_us": 2000000, "p50_us": 9000, "p90_us": 15000, '
        '"p99_us": 31000, "max_us": 52000, "mean_us": 10100.5, "errors": {"connect": 0, "read": 0, '
        '"write": 0, "status": 7, "timeout": 0}, "statuses": [{"200": 700, "401": 3}, {"200": 490}]}'
    )
    parsed = load.parse("Running 2s test\n" + line + "\n")
    assert parsed.rps == 600
    assert parsed.p99_ms == 31
    assert parsed.statuses == {200: 1190, 401: 3}
    with pytest.raises(load.LoadError):
        load.check(parsed, 200, "mixed statuses")


def _quick_run_possible() -> str | None:
    if not os.environ.get("KEYWARD_TEST_DATABASE_URL", "").startswith("postgres"):
        return "runs once, in the PostgreSQL pass (KEYWARD_TEST_DATABASE_URL on PostgreSQL)"
    if shutil.which("wrk") is None:
        return "wrk is not installed (.ci/run installs it)"
    try:
        postgres_bindir()
    except ServiceError as exc:
        return str(exc)
    return None


def test_quick_run_counts_updates_and_queries(tmp_path: Path) -> None:
    if reason := _quick_run_possible():
        pytest.skip(reason)
    out = tmp_path / "quick.json"
    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "last_used_batching",
            "--only",
            "refused_tokens",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert {"machine", "date", "benchmarks"} <= set(doc)
    rows = {item["name"]: item for item in doc["benchmarks"]}
    assert set(rows) == {"last_used_batching", "refused_tokens"}
    for item in rows.values():
        assert {"name", "value", "baseline", "ratio", "target", "meets"} <= set(item)
        assert item["value"] > 0 and item["baseline"] > 0
        assert item["ratio"] == pytest.approx(item["value"] / item["baseline"], rel=1e-3)
        assert item["meets"] is report.recompute_meets(item)

    batching = rows["last_used_batching"]["details"]
    requests = batching["counted_requests"]
    # the counter counts: the per-request variant shows an UPDATE for every request it served ...
    assert batching["updates_per_request_variant"] >= requests
    # ... and the batched app wrote every token's last use in a handful of statements
    assert 1 <= batching["updates_batched"] <= requests / 100
    assert batching["tokens_whose_last_used_at_moved"] == batching["tokens"]
    # execution time and WAL of both sides are measured (the restated row; its throughput part is retired)
    for side in ("batched", "per_request_variant"):
        assert (
            batching[side]["exec_ms"] > 0
            and batching[side]["wal_bytes"] > 0
            and batching[side]["cluster_wal_bytes"] > 0
        )
    assert batching["per_request_variant"]["exec_ms"] > batching["batched"]["exec_ms"]
    # a flush writes at most one row version per token; the full-page images were paid before the count
    assert 1 <= batching["batched"]["rows"] <= batching["tokens"] * batching["updates_batched"]
    assert batching["batched"]["full_page_images"] <= batching["per_request_variant"]["full_page_images"] + 1
    assert {c["label"] for c in rows["last_used_batching"]["checks"]} >= {
        "execution time reduction",
        "WAL bytes reduction",
    }

    refused = rows["refused_tokens"]
    queries = {check["label"]: check["value"] for check in refused["checks"]}
    assert queries == {"database queries, garbage tokens": 0, "database queries, bad checksum tokens": 0}
    assert set(refused["details"]["unknown"]["statuses"]) == {"401"}


def test_quick_run_of_the_data_plane_rows(tmp_path: Path) -> None:
    """The data-plane rows in their quick form: verify (throughput and p99), 2 workers against 1 (with the
    bare route's own scaling beside it), and revocation seen by the other process. The ratios on a shared
    machine are not judged here; that every row measured, that the revocation row refused every next
    request, and that its other process really answered from its cache, are."""
    if reason := _quick_run_possible():
        pytest.skip(reason)
    out = tmp_path / "quick.json"
    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            *("--only", "verify", "--only", "verify_workers", "--only", "revocation"),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {item["name"]: item for item in json.loads(out.read_text())["benchmarks"]}
    assert set(rows) == {"verify", "verify_p99", "verify_workers", "revocation"}
    for item in rows.values():
        assert item["value"] > 0 and item["baseline"] > 0
        assert item["meets"] is report.recompute_meets(item)
    verify = rows["verify"]
    assert set(verify["details"]["subject"]["statuses"]) == {"200"}
    [statements] = [c for c in verify["checks"] if c["label"] == "database statements per verify"]
    assert statements["meets"], statements  # answered from the cache, not the database
    workers = rows["verify_workers"]["details"]
    assert workers["bare_route_scaling"] > 0 and set(workers["bare_route_2_workers"]["statuses"]) == {"200"}
    revocation = rows["revocation"]
    assert revocation["value"] == revocation["baseline"] == revocation["details"]["pairs"]
    assert revocation["meets"], revocation
