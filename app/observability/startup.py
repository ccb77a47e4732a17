"""What a process says when it starts: its version, where its data lives (never a password), its schedules."""

import logging
from urllib.parse import urlsplit, urlunsplit

from app import keyward_version
from app.cron import is_off
from app.settings import Settings

log = logging.getLogger("keyward")

MASK = "***"


def without_password(url: str) -> str:
    """`postgres://kw:secret@db/kw` → `postgres://kw:***@db/kw`; a URL without a password is left as it is."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return MASK  # not a URL we can read: show nothing of it
    if not password:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))


def describe(settings: Settings, role: str) -> str:
    redis = f"Redis at {without_password(settings.redis_url)}" if settings.redis_url else "no Redis (embedded mode)"
    if is_off(settings.stale_sweep_cron):
        sweep = "off"
    else:
        runs_here = role == "worker" or not settings.redis_url
        sweep = f"cron {settings.stale_sweep_cron!r} UTC, " + ("in this process" if runs_here else "in keyward worker")
    return (
        f"keyward {keyward_version()} {role}: database {without_password(settings.database_url)}, {redis}, "
        f"stale sweep {sweep}, usage flush every {settings.usage_flush_seconds:g} s"
    )


def log_startup(settings: Settings, role: str) -> None:
    log.info("%s", describe(settings, role))
