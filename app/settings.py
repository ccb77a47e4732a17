"""Runtime configuration, read once from ``KEYWARD_*`` environment variables."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "KEYWARD_"
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg")
DATABASE_URL_FORMS = "sqlite:///path/to/keyward.sqlite3 or postgres://user@host:5432/database"
REDIS_SCHEMES = ("redis", "rediss", "unix")
REDIS_URL_FORMS = "redis://host:6379/0, rediss://… or unix:///path/to/socket"
PORT_PROBLEM = "the port is not a number from 1 to 65535"

# Every number setting has an upper bound, so that a slip (milliseconds for seconds, a digit too many) is refused
# at start in one line, instead of failing the first request that turns it into a time or a database value (a
# 1e300 h session crashed signUp; 10^20 log-in attempts crashed logIn).
LONGEST_DAYS = 100 * 365  # also as far ahead as a credential's expiry may be (app/services/expiry.py)
LONGEST_HOURS = LONGEST_DAYS * 24
LONGEST_SECONDS = LONGEST_DAYS * 86400
# Both databases take these waits in milliseconds, as a 32-bit integer: PostgreSQL refuses a larger
# statement_timeout, and SQLite reads a larger busy_timeout as 0 (no wait at all). About 24.8 days.
LONGEST_DATABASE_WAIT_SECONDS = (2**31 - 1) // 1000
LARGEST_COUNT = 2**31 - 1  # a database INTEGER: the log-in budgets are compared with one in SQL


def database_url_problem(url: str) -> str | None:
    """What makes `url` unusable before any connection is tried (scheme, port, name, SQLite folder), or None."""
    from urllib.parse import urlsplit

    from app.sqlite_client import database_folder_problem

    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in DATABASE_SCHEMES:
        return f"unsupported scheme {scheme or url[:20]!r}: use {DATABASE_URL_FORMS}"
    if scheme == "sqlite":
        path = url.split("://", 1)[1].split("?", 1)[0]
        if not path:
            return f"no file path: use {DATABASE_URL_FORMS}"
        return database_folder_problem(path)
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises on a port that is no number or out of range)
    except ValueError:
        return PORT_PROBLEM
    if not parts.path.strip("/"):
        return f"no database name: use {DATABASE_URL_FORMS}"
    return None


def redis_url_problem(url: str) -> str | None:
    """What makes `url` unusable before any connection is tried, or None: the scheme, a port that is no number
    from 1 to 65535, a database that is no number, or what redis-py's own parser refuses (a query value).

    redis-py ignores a database that is no number and a port of 0 (it connects to database 0, port 6379): a
    typo would silently send the uses to another database, so both are refused here.
    """
    from urllib.parse import unquote, urlsplit

    from redis.asyncio.connection import parse_url

    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in REDIS_SCHEMES:
        return f"unsupported scheme {scheme or url[:20]!r}: use {REDIS_URL_FORMS}"
    if scheme != "unix":
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            return PORT_PROBLEM
        database = unquote(parts.path).strip("/")
        if database and not database.isdigit():
            return f"the database after the host is not a number: use {REDIS_URL_FORMS}"
    try:
        parse_url(url)
    except ValueError as exc:
        return str(exc)
    return None


class Settings(BaseSettings):
    """Every setting, with the description `docs/configuration.md` is generated from (`scripts/config-reference`)."""

    # Errors never repeat the value given: URLs (database, SMTP) carry passwords. No number setting means
    # "forever" or "not a number": inf and nan (1e309, "nan") are refused, not carried into a timer or a sum.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", hide_input_in_errors=True, allow_inf_nan=False
    )

    database_url: str = Field(
        default="sqlite://keyward.sqlite3",
        description="Tortoise database URL. The default is a SQLite file, relative to the working directory; "
        "production: `postgres://user:password@host:5432/keyward`.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the usage buffer and `keyward worker` (`redis://:password@host:6379/0`). Unset: the "
        "API process buffers, flushes, sweeps and delivers webhooks itself.",
    )
    migrate_lock_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        le=LONGEST_SECONDS,
        description="How long `keyward migrate` (and an embedded start) waits for another migration of the same "
        "database to finish before giving up.",
    )
    migrate_table_lock_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=LONGEST_DATABASE_WAIT_SECONDS,
        description="PostgreSQL: how long one try of a migration waits for a lock on a table it changes. Past it the "
        "migration rolls back and tries again, so that it never holds the service's queries queued behind a long "
        "transaction for longer than this.",
    )
    migrate_table_lock_attempts: int = Field(
        default=10,
        ge=1,
        le=LARGEST_COUNT,
        description="PostgreSQL: how many times a migration tries to lock its tables (a second apart) before "
        "`keyward migrate` gives up, changing nothing.",
    )

    # Bounds on every wait of the API process (`keyward serve`) for its database, so that an outage
    # is answered 503 UNAVAILABLE within seconds instead of hanging (app.db.DatabaseTimeouts).
    database_connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=LONGEST_DATABASE_WAIT_SECONDS,
        description="PostgreSQL: opening a connection (TCP, TLS, authentication).",
    )
    database_acquire_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=LONGEST_DATABASE_WAIT_SECONDS,
        description="PostgreSQL: getting a connection from the pool, opening it included. "
        "SQLite: the busy timeout, waiting for another connection's lock.",
    )
    database_statement_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=LONGEST_DATABASE_WAIT_SECONDS,
        description="PostgreSQL: one statement (the server's statement_timeout; the client gives up one "
        "second later, also when the server does not answer at all).",
    )

    session_ttl_hours: float = Field(
        default=12.0, gt=0, le=LONGEST_HOURS, description="How long a log-in session lasts."
    )

    # Log-in budgets, counted before the password is checked, over fixed windows of
    # `login_lockout_seconds` (app/services/login_throttle.py).
    login_max_failures: int = Field(
        default=5,
        ge=1,
        le=LARGEST_COUNT,
        description="Failed log-ins per email and client address in a window; then that address is refused for "
        "that email until the window ends.",
    )
    login_max_failures_per_ip: int = Field(
        default=30,
        ge=1,
        le=LARGEST_COUNT,
        description="Failed log-ins per client address (any email; IPv6 per /64) in a window.",
    )
    login_max_failures_per_email: int = Field(
        default=20,
        ge=1,
        le=LARGEST_COUNT,
        description="Failed log-ins per email in a window from addresses that have not logged in to it in 30 days "
        "(recognised addresses skip this budget).",
    )
    login_lockout_seconds: int = Field(
        default=900,
        ge=1,
        le=LONGEST_SECONDS,
        description="The window of the three log-in budgets; a spent budget stays closed for one window from the "
        "attempt that spent it.",
    )
    signup_max_refusals_per_ip: int = Field(
        default=10,
        ge=1,
        le=LARGEST_COUNT,
        description="`signUp` attempts per client address that created no account (e.g. "
        "`EMAIL_TAKEN`, which tells that an email has an account) per window.",
    )
    signup_window_seconds: int = Field(
        default=3600, ge=1, le=LONGEST_SECONDS, description="The window of `KEYWARD_SIGNUP_MAX_REFUSALS_PER_IP`."
    )

    signup: Literal["open", "first", "closed"] = Field(
        default="first",
        description="Who may call `signUp` (an account and a workspace): `open` anyone, `first` only until the "
        "first account exists, `closed` nobody (people join by invitation; `keyward create-owner`).",
    )
    invitation_ttl_days: float = Field(
        default=7.0, gt=0, le=LONGEST_DAYS, description="An invitation expires this long after it is made."
    )
    public_url: str | None = Field(
        default=None,
        description="The console's address for invitation links (e.g. `https://keyward.example.com`); required with "
        "`KEYWARD_SMTP_URL`. Unset: the link shown to the inviter takes the address the inviting request came to.",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="Mail invitations: `smtp://user:password@host:587` (STARTTLS when offered) or "
        "`smtps://user:password@host:465`. Unset: the console shows the link once.",
    )
    smtp_from: str = Field(default="Keyward <keyward@localhost>", description="The sender of invitation mail.")
    smtp_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="How long sending one invitation mail may take."
    )

    introspection: bool = Field(
        default=True,
        description="Schema introspection and the GraphiQL page; off, errors suggest no names either.",
    )
    max_query_depth: int = Field(
        default=12, ge=1, le=LARGEST_COUNT, description="Deepest selection a GraphQL document may have."
    )
    max_aliases: int = Field(default=30, ge=1, le=LARGEST_COUNT, description="Most aliases in one GraphQL document.")
    max_query_tokens: int = Field(
        default=2000, ge=1, le=LARGEST_COUNT, description="Most lexical tokens in one GraphQL document."
    )
    # What validating and executing one document may cost, measured before either runs
    # (app/graphql/query_cost.py).
    max_query_selections: int = Field(
        default=300,
        ge=1,
        le=LARGEST_COUNT,
        description="What validating one GraphQL document may cost: field selections with fragments expanded, "
        "a repeated response name costing one more per repetition (QUERY_TOO_COMPLEX beyond).",
    )
    max_query_nodes: int = Field(
        default=10_000,
        ge=1,
        le=LARGEST_COUNT,
        description="Most connection nodes one GraphQL document may ask for, counted as GitHub counts them: "
        "each connection's `first` times those of the connections around it (QUERY_TOO_COMPLEX beyond).",
    )
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, le=LARGEST_COUNT, description="Largest request body, in bytes (413 beyond)."
    )
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        le=LARGEST_COUNT,
        description="Largest request line and headers together, in bytes (`keyward serve`; 431 beyond).",
    )

    # Last-used batching (app/usage/).
    usage_flush_seconds: float = Field(
        default=10.0,
        gt=0,
        le=LONGEST_SECONDS,
        description="How often buffered uses are written to the database (the worker with Redis, the API process "
        "without); every process must use the same value.",
    )
    usage_redis_timeout_seconds: float = Field(
        default=0.1,
        gt=0,
        le=LONGEST_SECONDS,
        description="How long a request waits for Redis to record a use before keeping it in process instead.",
    )
    usage_redis_retry_seconds: float = Field(
        default=1.0,
        gt=0,
        le=LONGEST_SECONDS,
        description="How long an API process leaves a failing Redis alone before trying again.",
    )
    usage_redis_max_connections: int = Field(
        default=32,
        ge=1,
        le=LARGEST_COUNT,
        description="Connections to Redis per API process; requests beyond wait for one (within the timeout).",
    )
    usage_flush_lease_seconds: float = Field(
        default=30.0,
        ge=1,  # 0.05 s expired before a round of a backlog was written: every flush lost it, nothing was written
        le=LONGEST_SECONDS,
        description="The flush lease: renewed every third of it while a flush runs; a worker killed mid-flush is "
        "taken over once it expired. At least 1 s.",
    )
    usage_spool_dir: str = Field(
        default="keyward-usage-spool",
        description="Where an API process keeps uses the database did not take until it takes them; a subfolder "
        "per database; relative to the working directory.",
    )
    stale_sweep_settle_seconds: float | None = Field(
        default=None,
        ge=0,
        le=LONGEST_SECONDS,
        description="How long the stale sweep waits before judging, so uses still buffered in API processes reach "
        "the database first; at least `KEYWARD_USAGE_FLUSH_SECONDS`. Unset: the flush interval plus 5 s.",
    )
    stale_sweep_cron: str = Field(
        default="17 3 * * *",
        description="When the stale-token sweep runs: five-field cron (minute hour day month weekday) in UTC, or "
        "`off` (then only `keyward stale-sweep` runs it).",
    )

    credential_cache_size: int = Field(
        default=10_000,
        ge=0,
        le=LARGEST_COUNT,
        description="Verified API keys and management tokens an API process keeps (with Redis only; 0: none).",
    )
    credential_cache_seconds: float = Field(
        default=60.0,
        gt=0,
        le=LONGEST_SECONDS,
        description="How long an API process keeps a verified credential at most.",
    )
    unknown_credential_cache_size: int = Field(
        default=10_000,
        ge=0,
        le=LARGEST_COUNT,
        description="Digests the database did not know, kept apart from the live ones so a flood of unknown tokens "
        "cannot push those out (0: none).",
    )
    unknown_credential_cache_seconds: float = Field(
        default=10.0, gt=0, le=LONGEST_SECONDS, description="How long an unknown digest is remembered."
    )

    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose `X-Forwarded-For` is trusted for client addresses (uvicorn's "
        "`forwarded_allow_ips`; comma-separated).",
    )

    # Webhooks (app/webhooks/, app/services/webhook_delivery.py).
    webhook_allow_http: bool = Field(
        default=False, description="Allow `http://` webhook URLs (tests, local receivers)."
    )
    webhook_allowed_hosts: str = Field(
        default="",
        description="Host names, addresses and CIDR ranges webhooks may reach although they are not public "
        "(comma-separated).",
    )
    webhook_delivery_seconds: float = Field(
        default=5.0,
        ge=0,
        le=LONGEST_SECONDS,
        description="How often due webhook deliveries are sent (the worker with Redis, the API process without); "
        "`0`: never.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="One webhook delivery attempt, DNS included."
    )
    webhook_claim_seconds: float = Field(
        default=60.0,
        gt=0,
        le=LONGEST_SECONDS,
        description="A claimed delivery whose worker died is taken over after this.",
    )
    webhook_disable_after_days: float = Field(
        default=3.0,
        gt=0,
        le=LONGEST_DAYS,
        description="An endpoint whose attempts have all failed this long is disabled.",
    )
    webhook_retention_days: int = Field(
        default=30,
        ge=1,
        le=LONGEST_DAYS,
        description="Finished webhook events and their deliveries are kept this long.",
    )

    leaks_rate_limit: str = Field(
        default="60/minute",
        description=(
            "`POST /v1/leaks` requests per client address (IPv6: per /64), per API process "
            "(e.g. `60/minute`, `1000/hour`)."
        ),
    )

    # Operations (app/observability/).
    metrics: bool = Field(
        default=False,
        description="Serve Prometheus metrics at `GET /metrics` (and on `KEYWARD_WORKER_METRICS_PORT` in "
        "`keyward worker`).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, `/metrics` and the worker's metrics answer only `Authorization: Bearer <this>`.",
    )
    metrics_max_operation_names: int = Field(
        default=200,
        ge=1,
        le=LARGEST_COUNT,
        description="Distinct GraphQL operation names each process counts under their own name; later ones "
        "are counted as `other`.",
    )
    worker_metrics_port: int = Field(
        default=9464, ge=1, le=65535, description="The port of `keyward worker`'s metrics (with `KEYWARD_METRICS`)."
    )
    worker_metrics_host: str = Field(
        default="127.0.0.1",
        description="The address `keyward worker`'s metrics listen on (`0.0.0.0` in a container).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`text`: one readable line per record with its time; `json`: one JSON object per line (time, "
        "level, logger, message, request id, route, status, duration).",
    )
    otel: bool = Field(
        default=False,
        description="Trace requests and GraphQL operations with OpenTelemetry (needs `pip install "
        "keyward[otel]`; exporter from the standard `OTEL_*` variables).",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        problem = database_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        problem = redis_url_problem(value) if value else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("smtp_from")
    @classmethod
    def _smtp_from(cls, value: str) -> str:
        # The mail's sender: empty (or "Keyward <>") made every mailed invitation answer 500, as the mail
        # library refuses a message without a sender address before sending it.
        from email.utils import parseaddr

        _, address = parseaddr(value)
        local, _, domain = address.rpartition("@")
        if not local or not domain or any(c.isspace() or ord(c) < 32 for c in address):
            raise ValueError("expected a sender address, e.g. Keyward <keyward@example.com>")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        # Invitation links are this plus a path: without a scheme and a host ("keyward.example.com", "abc")
        # every link mailed or shown was one no browser opens.
        if not value:  # empty reads as unset, as for KEYWARD_REDIS_URL
            return None
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (raises on a port that is no number or out of range)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected the console's address with its scheme, e.g. https://keyward.example.com")
        if parts.query or parts.fragment:
            raise ValueError("expected the console's address without a query or fragment")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _forwarded_allow_ips(cls, value: str) -> str:
        # uvicorn takes an entry that is no address or network ("10.0.0.0/33", "10.0.0.1/24") for a name and
        # trusts nobody for it, without a word: every client then had the proxy's address (log-in budgets,
        # IP allowlists, lastUsedIp).
        import ipaddress

        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        if entries == ["*"]:
            return value
        for entry in entries:
            if entry == "*":
                raise ValueError("'*' trusts every proxy only on its own, not in a list")
            try:
                ipaddress.ip_network(entry) if "/" in entry else ipaddress.ip_address(entry)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is no IP address or network (e.g. 10.0.0.1, 10.0.0.0/8; host bits must be zero)"
                ) from None
        return value

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _allowed_hosts(cls, value: str) -> str:
        from app.webhooks.destinations import parse_allow_list

        parse_allow_list(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None:
            from app.services.mail import parse_smtp_url

            parse_smtp_url(value.get_secret_value())  # raises ValueError without repeating the password
            # Without the console's address a mailed link takes the inviting request's (its Host header, which
            # the inviter writes): a page there reads the token from the link, and the inviter holds it after all.
            if "public_url" in info.data and info.data["public_url"] is None:
                raise ValueError(
                    "mailed invitation links need KEYWARD_PUBLIC_URL (the console's address, e.g. "
                    "https://keyward.example.com); without it a link would point wherever the inviting request's "
                    "Host header said"
                )
        return value

    @field_validator("leaks_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        import limits

        rates = limits.parse_many(value)  # raises ValueError: e.g. "60/minute", "1000/hour"
        # The endpoint applies one rate: "0/minute" refused every report for ever, and of "60/minute;1/second"
        # only the first was applied.
        if len(rates) != 1:
            raise ValueError("expected one rate, e.g. 60/minute (the endpoint applies one)")
        if rates[0].amount < 1:
            raise ValueError("expected at least 1 request per window: 0 refuses every leak report")
        if rates[0].get_expiry() > LONGEST_SECONDS:
            raise ValueError("expected a window of at most 100 years")
        return value

    @property
    def sweep_settle_seconds(self) -> float:
        if self.stale_sweep_settle_seconds is not None:
            return self.stale_sweep_settle_seconds
        return self.usage_flush_seconds + 5.0

    @field_validator("stale_sweep_settle_seconds")
    @classmethod
    def _settle_covers_the_flush_interval(cls, value: float | None, info: ValidationInfo) -> float | None:
        flush_seconds = info.data.get("usage_flush_seconds")  # absent when it is itself invalid
        if value is not None and flush_seconds is not None and value < flush_seconds:
            raise ValueError(
                f"a wait shorter than KEYWARD_USAGE_FLUSH_SECONDS ({flush_seconds:g}) judges tokens before uses "
                "still buffered in API processes reach the database: KEYWARD_STALE_SWEEP_SETTLE_SECONDS must be at "
                "least that"
            )
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
