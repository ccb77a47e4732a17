"""uvicorn's logs without query strings, at every level.

Keyward never asks for a secret in a URL, but clients put them there anyway: a log-in mutation
sent with GET (`/graphql?query=mutation{logIn(input:{password:"…"})}`) is refused, yet uvicorn
has already logged its request line by then. The access log keeps the client, method, path and
status, and shows that a query string was there without what it said.

At `--log-level trace` uvicorn also logs every ASGI scope (`uvicorn.asgi`, "Started scope=…"),
query string included (it replaces only headers and bodies with placeholders): those records get
the same treatment. uvicorn's other trace lines (connection made, lost) carry no part of a request.
"""

import logging

ACCESS_LOGGER = "uvicorn.access"
ASGI_TRACE_LOGGER = "uvicorn.asgi"
REDACTED = "?[redacted]"
REDACTED_QUERY_STRING = b"[redacted]"


class QueryStringRedactor(logging.Filter):
    """Drops the query string from uvicorn's access-log records (`'%s - "%s %s HTTP/%s" %d'`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str) and "?" in args[2]:
            path = args[2].partition("?")[0]
            record.args = (*args[:2], path + REDACTED, *args[3:])
        return True


class ScopeQueryStringRedactor(logging.Filter):
    """Drops the query string from the ASGI scopes and messages that uvicorn's trace logger prints."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_without_query_string(arg) for arg in record.args)
        return True


def _without_query_string(value: object) -> object:
    if isinstance(value, dict) and value.get("query_string"):
        return {**value, "query_string": REDACTED_QUERY_STRING}
    return value


def redact_query_strings() -> None:
    """Install the filters on uvicorn's loggers, once per process (however many apps it builds).

    uvicorn configures its loggers before it calls the app factory, and `dictConfig` keeps a
    logger's filters, so filters added here cover `keyward serve` and plain `uvicorn` alike.
    """
    for name, redactor in ((ACCESS_LOGGER, QueryStringRedactor), (ASGI_TRACE_LOGGER, ScopeQueryStringRedactor)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, redactor) for f in logger.filters):
            logger.addFilter(redactor())
