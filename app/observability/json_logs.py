"""KEYWARD_LOG_FORMAT=json: python-json-logger's formatter with Keyward's field names and UTC times."""

import time
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from app.observability.logs import UtcFormatter

# uvicorn adds a colourised copy of some messages as an extra attribute: not a field worth keeping.
NOT_FIELDS = ("color_message",)


class KeywardJsonFormatter(JsonFormatter):
    """`time`, `level`, `logger`, `message`, then the record's extra fields (a request's, see `logs.RequestFields`)."""

    converter = time.gmtime  # type: ignore[assignment]  # as UtcFormatter
    formatTime = UtcFormatter.formatTime  # noqa: N815 - logging's name

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, *NOT_FIELDS],
        )
