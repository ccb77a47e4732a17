"""Strawberry's OpenTelemetry extension, without the document text and without argument values.

Strawberry records the whole document as the operation span's `query` attribute and every
resolver argument as `graphql.param.<name>`: an inline `logIn(input: {password: "…"})` would
reach the tracing backend. Names, paths and types stay; values do not.
"""

from collections.abc import Iterator
from typing import Any

from strawberry.extensions.tracing import OpenTelemetryExtension


def _no_values(arguments: dict[str, Any], info: object) -> dict[str, Any]:
    return {}


class KeywardOpenTelemetry(OpenTelemetryExtension):
    def __init__(self, *, execution_context: Any = None) -> None:
        super().__init__(execution_context=execution_context, arg_filter=_no_values)

    def on_operation(self) -> Iterator[None]:  # type: ignore[override]
        # Strawberry's own steps, with the document hidden while it starts the operation's span.
        operation = super().on_operation()
        document, self.execution_context.query = self.execution_context.query, None
        try:
            next(operation)
        finally:
            self.execution_context.query = document
        yield
        next(operation, None)
