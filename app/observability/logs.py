"""Logging for every Keyward command: one handler on the root logger, uvicorn's and Tortoise's loggers included.

`KEYWARD_LOG_FORMAT=text` (default): `2026-12-02T15:04:05.123Z INFO uvicorn.access message`, a
time on every line (uvicorn's own formatters print none). `json`: one JSON object per line with
`time`, `level`, `logger`, `message`, and, for records made while a request runs, `request_id`,
`route`, and once the answer has started `status` and `duration_ms` (uvicorn's access line has
all four). The access log's query strings stay redacted (`app.http.access_log`).
"""

import logging
import logging.config
import time
from typing import Any

from app.observability.request_context import current_request

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Referred to by name, so that python-json-logger is imported only where the JSON format is used:
# every uvicorn worker process configures logging before it can answer its supervisor.
JSON_FORMATTER = "app.observability.json_logs.KeywardJsonFormatter"


class UtcFormatter(logging.Formatter):
    """ISO 8601 times in UTC with milliseconds, whatever the host's time zone."""

    converter = time.gmtime  # type: ignore[assignment]  # logging calls it unbound, as a plain function

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + f".{int(record.msecs):03d}Z"  # type: ignore[misc, call-arg]


class TortoiseLifecycle(logging.Filter):
    """Drops Tortoise's "Tortoise-ORM started, <reprs>" and "Tortoise-ORM shutdown" lines.

    Tortoise logs "shutdown" on every `close_connections()`: a start that migrates first said
    "shutdown" before "started", and a stop said it twice. Keyward logs its own lines instead
    ("database: connected …", "database: connections closed") where the lifespan opens and closes it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Tortoise-ORM "))


class RequestFields(logging.Filter):
    """Adds the current request's id, route, status and duration to the record (when there is one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = current_request()
        if info is not None:
            record.request_id = info.request_id
            record.route = info.route
            if info.status is not None:
                record.status = info.status
            if info.duration is not None:
                record.duration_ms = round(info.duration * 1000, 3)
        return True


def logging_config(log_format: str = "text", level: str = "info", *, access_log: bool = True) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary, also handed to uvicorn (`log_config`) so its workers use it."""
    formatter = (
        {"()": JSON_FORMATTER} if log_format == "json" else {"()": f"{__name__}.UtcFormatter", "format": TEXT_FORMAT}
    )
    uvicorn_level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"keyward": formatter},
        "filters": {
            "request": {"()": f"{__name__}.RequestFields"},
            "tortoise_lifecycle": {"()": f"{__name__}.TortoiseLifecycle"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "keyward",
                # Only JSON lines carry the request's fields (the text format has no place for them).
                "filters": ["request"] if log_format == "json" else [],
            }
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            # uvicorn's loggers keep uvicorn's levels (`--log-level`) and write through the root's handler.
            "uvicorn": {"handlers": [], "level": uvicorn_level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": uvicorn_level, "propagate": True},
            "uvicorn.access": {
                "handlers": [],
                "level": uvicorn_level if access_log else "WARNING",
                "propagate": True,
            },
            "tortoise": {"handlers": [], "filters": ["tortoise_lifecycle"], "propagate": True},
        },
    }


def configure_logging(log_format: str = "text", level: str = "info") -> None:
    logging.config.dictConfig(logging_config(log_format, level))
