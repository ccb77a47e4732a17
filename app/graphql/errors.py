"""How failures reach clients: user input as BAD_USER_INPUT, the database not answering as UNAVAILABLE,
anything unexpected masked with a request id."""

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from app.db_errors import is_database_unavailable
from app.http.unavailable import CODE as UNAVAILABLE
from app.http.unavailable import MESSAGE as UNAVAILABLE_MESSAGE
from app.observability.request_context import current_request
from app.services.errors import UserInputError

log = logging.getLogger("keyward.graphql")


def bad_input(error: UserInputError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": "BAD_USER_INPUT", "reason": error.code}
    if error.field:
        extensions["field"] = list(error.field)
    return GraphQLError(error.message, extensions=extensions, original_error=error)


def has_code(error: GraphQLError, code: str) -> bool:
    return (error.extensions or {}).get("code") == code


def report_outage(context: object, error: BaseException) -> None:
    """Tell the app's outage state (one log line per change; `app.db_outage`), when there is an app."""
    request = getattr(context, "request", None)
    outage = getattr(getattr(getattr(request, "app", None), "state", None), "database", None)
    if outage is not None:
        outage.failed(error)


class ErrorPolicy(SchemaExtension):
    """Keeps deliberate errors (GraphQLError with a code, UserInputError) and masks everything else.

    A field that failed because the database does not answer gets UNAVAILABLE, and no traceback
    (the outage is logged once, not per field or request); the view turns an operation in which
    nothing resolved into a 503 (`app.graphql.view`). A masked error carries a request id; the
    traceback goes to the log under the same id, so an operator can find it while the client
    learns nothing about the internals.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if not result or not result.errors:
            return
        result.errors = [self._policy(error) for error in result.errors]

    def _policy(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            return error
        if isinstance(original, UserInputError):
            converted = bad_input(original)
            return GraphQLError(converted.message, nodes=error.nodes, path=error.path, extensions=converted.extensions)
        if is_database_unavailable(original):
            report_outage(self.execution_context.context, original)
            return GraphQLError(
                UNAVAILABLE_MESSAGE, nodes=error.nodes, path=error.path, extensions={"code": UNAVAILABLE}
            )
        request = current_request()  # the id the client also gets in X-Request-ID
        request_id = request.request_id if request is not None else uuid.uuid4().hex
        log.error("unexpected error in GraphQL request %s at %s", request_id, error.path, exc_info=original)
        return GraphQLError(
            f"Internal server error (request id {request_id}).",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )


class KeywardSchema(strawberry.Schema):
    """Strawberry logs every GraphQL error with the query document around it, so a client's
    inline literal (a password in `logIn(input: {password: "..."})`) would reach the log.
    Expected errors (FORBIDDEN, validation, user input) are the client's business; the
    unexpected ones are logged by ErrorPolicy under their request id, without the document.

    With `hide_suggestions` (introspection off), execution tells graphql-core to leave out its
    "Did you mean …?" hints (an enum value in a variable, say); validation does the same in
    `app.graphql.document_checks`.
    """

    def __init__(self, *args: Any, hide_suggestions: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        if self.hide_suggestions:
            kwargs["hide_suggestions"] = True
        return kwargs

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None
