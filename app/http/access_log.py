"""uvicorn's access log without query strings.

Keyward never asks for a secret in a URL, but clients put them there anyway: a log-in mutation
sent with GET (`/graphql?query=mutation{logIn(input:{password:"…"})}`) is refused, yet uvicorn
has already logged its request line by then. The access log keeps the client, method, path and
status, and shows that a query string was there without what it said.
"""

import logging

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "?[redacted]"


class QueryStringRedactor(logging.Filter):
    """Drops the query string from uvicorn's access-log records (`'%s - "%s %s HTTP/%s" %d'`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str) and "?" in args[2]:
            path = args[2].partition("?")[0]
            record.args = (*args[:2], path + REDACTED, *args[3:])
        return True


def redact_query_strings() -> None:
    """Install the filter on uvicorn's access logger, once per process (however many apps it builds).

    uvicorn configures its loggers before it calls the app factory, and `dictConfig` keeps a
    logger's filters, so a filter added here covers `keyward serve` and plain `uvicorn` alike.
    """
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, QueryStringRedactor) for f in logger.filters):
        logger.addFilter(QueryStringRedactor())
