"""GraphQL operations in Prometheus: by operation name (bounded), type and outcome, with a latency histogram."""

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from app.graphql.view import is_request_error
from app.observability import metrics
from app.observability.metrics import OperationNames

INVALID = "invalid"


class OperationMetrics(SchemaExtension):
    """Counts every operation once it is answered.

    outcome: `ok`; `error` (it ran and some fields failed: FORBIDDEN, user input, an internal
    error); `invalid` (it never ran: parse, validation, variable coercion, the query limits). An
    invalid document's name is not trusted: it is counted as `operation="invalid"`.
    """

    def __init__(self, names: OperationNames) -> None:
        self.names = names

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        result = context.result
        if context.pre_execution_errors or (result is not None and is_request_error(result)):  # type: ignore[arg-type]
            outcome = INVALID
        elif result is not None and result.errors:
            outcome = "error"
        else:
            outcome = "ok"
        try:
            kind = context.operation_type.value
        except Exception:  # no document, or no operation of that name
            kind = "unknown"
        operation = INVALID if outcome == INVALID else self.names.label(context.operation_name)
        metrics.GRAPHQL_OPERATIONS.labels(operation, kind, outcome).inc()
        metrics.GRAPHQL_DURATION.labels(operation, kind).observe(time.perf_counter() - started)
