"""Every Prometheus metric Keyward exports, in one module: names, labels, and the bound on each label set.

Labels only ever take values from a small closed set (route templates, status codes, reason and
outcome names), except GraphQL operation names, which clients choose: `OperationNames` keeps the
first `limit` distinct names a process sees and counts every later one as `other`.

With several uvicorn worker processes (`keyward serve --workers N`) every process writes its
samples to files in PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, set up by
`keyward serve`), and whichever process answers GET /metrics reads them all: one scrape sees the
whole server. Gauges say how they combine across processes (`multiprocess_mode`).
"""

import re
import threading

from prometheus_client import Counter, Gauge, Histogram

# Request and operation latencies: 5 ms to 10 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Background work (flush, sweep, jobs): 10 ms to 20 minutes.
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0)

BUILD_INFO = Gauge(
    "keyward_build_info", "Always 1; the running version as a label.", ["version"], multiprocess_mode="max"
)

# ---- HTTP ----------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "keyward_http_requests_total",
    "HTTP requests answered, by route template (not the raw path), method and status code.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "keyward_http_request_duration_seconds",
    "Time from receiving a request to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)

# ---- GraphQL -------------------------------------------------------------------------------
GRAPHQL_OPERATIONS = Counter(
    "keyward_graphql_operations_total",
    "GraphQL operations by name (capped: see keyward_graphql_operation_names_dropped_total), type and outcome: "
    "ok, error (it ran, some fields failed) or invalid (it never ran: parse, validation, variables).",
    ["operation", "type", "outcome"],
)
GRAPHQL_DURATION = Histogram(
    "keyward_graphql_operation_duration_seconds",
    "Time to parse, validate and execute a GraphQL operation, by name and type.",
    ["operation", "type"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_NAMES_DROPPED = Counter(
    "keyward_graphql_operation_names_dropped_total",
    'Operations counted as operation="other" because this process already tracks its limit of distinct names.',
)

# ---- Credentials ---------------------------------------------------------------------------
AUTH_REFUSALS = Counter(
    "keyward_authentication_refusals_total",
    "Requests refused with 401 for their Authorization header, by reason.",
    ["reason"],
)
VERIFY_ANSWERS = Counter(
    "keyward_verify_answers_total",
    "POST /v1/keys/verify answers by code: VALID, MALFORMED, NOT_AN_API_KEY, UNKNOWN_KEY, EXPIRED, IP_NOT_ALLOWED, "
    "BAD_REQUEST.",
    ["code"],
)

# ---- Usage buffer and flush ----------------------------------------------------------------
USAGE_BUFFER_DEPTH = Gauge(
    "keyward_usage_buffer_uses",
    'Uses waiting to be written to the database: buffer="process" in API processes (summed over them), '
    'buffer="redis" in Redis (reported by the worker).',
    ["buffer"],
    multiprocess_mode="livesum",
)
USAGE_FLUSH_LAG = Gauge(
    "keyward_usage_flush_lag_seconds",
    "Age of the oldest use still waiting in the buffer (0 when it is empty): how far lastUsedAt trails.",
    ["buffer"],
    multiprocess_mode="livemax",
)
USAGE_FLUSHES = Counter(
    "keyward_usage_flushes_total",
    "Flushes by outcome: ok, skipped (another flush held the lease) or failed (the uses stay buffered).",
    ["outcome"],
)
USAGE_FLUSH_DURATION = Histogram(
    "keyward_usage_flush_duration_seconds",
    "Duration of flushes that held the lease (taking rounds and writing them).",
    buckets=JOB_BUCKETS,
)
USAGE_FLUSHED_USES = Counter("keyward_usage_flushed_uses_total", "Uses written to the database by flushes.")
USAGE_LAST_FLUSH = Gauge(
    "keyward_usage_last_flush_timestamp_seconds",
    "Unix time of the last flush that finished without an error.",
    multiprocess_mode="max",
)
USES_DEAD_LETTERED = Counter(
    "keyward_usage_uses_dead_lettered_total",
    "Buffered uses moved aside instead of written: the database refused them, or they could not be read.",
    ["reason"],
)

# ---- Stale sweep ---------------------------------------------------------------------------
SWEEPS = Counter("keyward_stale_sweeps_total", "Stale-token sweeps by outcome: ok or failed.", ["outcome"])
SWEEP_DURATION = Histogram(
    "keyward_stale_sweep_duration_seconds",
    "Duration of the stale sweep's judging and writing (after its settle wait).",
    buckets=JOB_BUCKETS,
)
SWEEP_LAST = Gauge(
    "keyward_stale_sweep_last_success_timestamp_seconds",
    "Unix time of the last stale sweep that finished.",
    multiprocess_mode="max",
)

# ---- Webhooks ------------------------------------------------------------------------------
WEBHOOK_ATTEMPTS = Counter(
    "keyward_webhook_delivery_attempts_total",
    "Webhook delivery attempts by outcome: delivered, retry (failed, will retry), failed (gave up), "
    "disabled (failed and the endpoint was disabled), lost (another worker took it over), error (Keyward itself "
    "failed; the claim lapses).",
    ["outcome"],
)

# ---- Worker --------------------------------------------------------------------------------
WORKER_JOBS = Counter(
    "keyward_worker_jobs_total",
    "Jobs run by `keyward worker`, by job and outcome (success or failure).",
    ["job", "outcome"],
)
WORKER_JOB_DURATION = Histogram(
    "keyward_worker_job_duration_seconds",
    "Duration of the worker's jobs, by job.",
    ["job"],
    buckets=JOB_BUCKETS,
)

ALL_METRICS = (
    BUILD_INFO,
    HTTP_REQUESTS,
    HTTP_DURATION,
    GRAPHQL_OPERATIONS,
    GRAPHQL_DURATION,
    GRAPHQL_NAMES_DROPPED,
    AUTH_REFUSALS,
    VERIFY_ANSWERS,
    USAGE_BUFFER_DEPTH,
    USAGE_FLUSH_LAG,
    USAGE_FLUSHES,
    USAGE_FLUSH_DURATION,
    USAGE_FLUSHED_USES,
    USAGE_LAST_FLUSH,
    USES_DEAD_LETTERED,
    SWEEPS,
    SWEEP_DURATION,
    SWEEP_LAST,
    WEBHOOK_ATTEMPTS,
    WORKER_JOBS,
    WORKER_JOB_DURATION,
)


def exported_names() -> set[str]:
    """Every series name a scrape can contain (counters' _total, histograms' _bucket/_count/_sum)."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "gauge": ("",),
    }
    return {
        family.name + suffix
        for metric in ALL_METRICS
        for family in metric.describe()
        for suffix in suffixes[family.type]
    }


# GraphQL names: /[_A-Za-z][_0-9A-Za-z]*/; longer than this is not a name anyone charts.
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
ANONYMOUS = "anonymous"
OTHER = "other"


class OperationNames:
    """The `operation` label: a client's operation name, while this process tracks fewer than `limit` names.

    Label sets are kept for the life of a process, so a client sending a new name per request
    would grow the scrape without bound; past the limit, new names are counted as `other` (and in
    keyward_graphql_operation_names_dropped_total). Names already seen keep their own series.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if name in self._seen:
            return name
        if not _OPERATION_NAME.fullmatch(name):
            return OTHER
        with self._lock:
            if len(self._seen) < self.limit:
                self._seen.add(name)
                return name
        GRAPHQL_NAMES_DROPPED.inc()
        return OTHER
