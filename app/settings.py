"""Runtime configuration, read once from ``KEYWARD_*`` environment variables."""

from functools import lru_cache

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEYWARD_", extra="ignore")

    database_url: str = "sqlite://keyward.sqlite3"
    redis_url: str | None = None

    # Bounds on every wait of the API process (`keyward serve`) for its database, so that an outage
    # is answered 503 UNAVAILABLE within seconds instead of hanging (app.db.DatabaseTimeouts).
    database_connect_timeout_seconds: float = Field(
        default=5.0, gt=0, description="PostgreSQL: opening a connection (TCP, TLS, authentication)."
    )
    database_acquire_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="PostgreSQL: getting a connection from the pool, opening it included. "
        "SQLite: the busy timeout, waiting for another connection's lock.",
    )
    database_statement_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="PostgreSQL: one statement (the server's statement_timeout; the client gives up one "
        "second later, also when the server does not answer at all).",
    )

    session_ttl_hours: float = Field(default=12.0, gt=0)

    # Log-in budgets, counted before the password is checked, over fixed windows of
    # `login_lockout_seconds` (app/services/login_throttle.py): failed log-ins per email and client
    # address, per client address (any email), and per email from addresses that never logged in to
    # it successfully. A budget spent refuses only what it counts, until its window ends.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=30, ge=1)
    login_max_failures_per_email: int = Field(default=20, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)
    # signUp and addMember attempts per client address that did not create an account (they may
    # answer EMAIL_TAKEN, which tells that an email has an account somewhere), per window.
    signup_max_refusals_per_ip: int = Field(default=10, ge=1)
    signup_window_seconds: int = Field(default=3600, ge=1)

    introspection: bool = True
    max_query_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_query_tokens: int = Field(default=2000, ge=1)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)

    # Last-used batching: how often buffered uses are written to the database (the arq cron with
    # Redis, a lifespan task without), how long a request may wait for Redis before its use is kept
    # in process instead, and how long to leave a failing Redis alone before trying again.
    usage_flush_seconds: float = Field(default=10.0, gt=0)
    usage_redis_timeout_seconds: float = Field(default=0.1, gt=0)
    usage_redis_retry_seconds: float = Field(default=1.0, gt=0)
    usage_redis_max_connections: int = Field(default=32, ge=1)
    # Single-flight flush across workers: the flush holds a lease this long, renewed every third of
    # it while it runs; a worker killed mid-flush is taken over once its lease has expired.
    usage_flush_lease_seconds: float = Field(default=30.0, gt=0)
    # Where an API process keeps uses the database did not take (a failed flush, a shutdown during an
    # outage) until the database takes them; one subfolder per database; relative to the working directory.
    usage_spool_dir: str = "keyward-usage-spool"
    # How long the stale sweep waits before judging, so that uses still buffered in API processes
    # reach the database first: at least usage_flush_seconds; unset: usage_flush_seconds + 5.
    stale_sweep_settle_seconds: float | None = Field(default=None, ge=0)
    # Five-field cron (minute hour day month weekday, UTC) for the stale-token sweep; "off" to
    # run it only on demand (`keyward stale-sweep`).
    stale_sweep_cron: str = "17 3 * * *"

    # Proxies whose X-Forwarded-For is trusted (uvicorn's forwarded_allow_ips).
    forwarded_allow_ips: str = "127.0.0.1"

    # Webhooks. Endpoint URLs must be https unless `webhook_allow_http`; deliveries never go to
    # loopback, link-local, private or reserved addresses (checked after DNS resolution, on the
    # address connected to) unless the host, the address or a CIDR range containing it is listed
    # in `webhook_allowed_hosts` (comma-separated). Due deliveries are sent every
    # `webhook_delivery_seconds` (the arq worker with Redis, the API process without; 0: never,
    # e.g. in tests that deliver by hand); one attempt may take `webhook_timeout_seconds`, and a
    # claimed delivery whose worker died is taken over after `webhook_claim_seconds`. An endpoint
    # whose attempts have all failed for `webhook_disable_after_days` is disabled.
    webhook_allow_http: bool = False
    webhook_allowed_hosts: str = ""
    webhook_delivery_seconds: float = Field(default=5.0, ge=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_claim_seconds: float = Field(default=60.0, gt=0)
    webhook_disable_after_days: float = Field(default=3.0, gt=0)
    webhook_retention_days: int = Field(default=30, ge=1)

    # POST /v1/leaks: requests per client address (a `limits` rate string, per API process).
    leaks_rate_limit: str = "60/minute"

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _allowed_hosts(cls, value: str) -> str:
        from app.webhooks.destinations import parse_allow_list

        parse_allow_list(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("leaks_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        import limits

        limits.parse(value)  # raises ValueError: e.g. "60/minute", "1000/hour"
        return value

    @property
    def sweep_settle_seconds(self) -> float:
        if self.stale_sweep_settle_seconds is not None:
            return self.stale_sweep_settle_seconds
        return self.usage_flush_seconds + 5.0

    @model_validator(mode="after")
    def _settle_covers_the_flush_interval(self) -> "Settings":
        if self.stale_sweep_settle_seconds is not None and self.stale_sweep_settle_seconds < self.usage_flush_seconds:
            raise ValueError(
                "KEYWARD_STALE_SWEEP_SETTLE_SECONDS must be at least KEYWARD_USAGE_FLUSH_SECONDS: a shorter wait "
                "judges tokens before uses still buffered in API processes reach the database"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
