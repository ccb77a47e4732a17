"""Runtime configuration, read once from ``KEYWARD_*`` environment variables."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEYWARD_", extra="ignore")

    database_url: str = "sqlite://keyward.sqlite3"
    redis_url: str | None = None

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
    # Five-field cron (minute hour day month weekday, UTC) for the stale-token sweep; "off" to
    # run it only on demand (`keyward stale-sweep`).
    stale_sweep_cron: str = "17 3 * * *"

    # Proxies whose X-Forwarded-For is trusted (uvicorn's forwarded_allow_ips).
    forwarded_allow_ips: str = "127.0.0.1"


@lru_cache
def get_settings() -> Settings:
    return Settings()
