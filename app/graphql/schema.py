"""The schema object (`app.graphql.schema:schema`) and its guards against hostile queries."""

from collections.abc import Callable
from typing import Any

import strawberry
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter

from app.graphql.document_checks import DocumentChecks
from app.graphql.errors import ErrorPolicy, KeywardSchema
from app.graphql.mutations.api_keys import ApiKeyMutations
from app.graphql.mutations.auth import AuthMutations
from app.graphql.mutations.management_tokens import ManagementTokenMutations
from app.graphql.mutations.people import PeopleMutations
from app.graphql.mutations.projects import ProjectMutations
from app.graphql.mutations.webhooks import WebhookMutations
from app.graphql.mutations.workspace import WorkspaceMutations
from app.graphql.operation_metrics import OperationMetrics
from app.graphql.queries import Query
from app.graphql.sibling_cancellation import install as install_sibling_cancellation
from app.graphql.types.audit import AuditEvent
from app.graphql.types.people import Invitation, Member
from app.graphql.types.projects import ApiKey, Project
from app.graphql.types.tokens import ManagementToken, StaleTokenReport
from app.graphql.types.webhooks import WebhookDelivery, WebhookEndpoint
from app.graphql.types.workspace import Workspace
from app.observability.metrics import OperationNames
from app.settings import Settings, get_settings


@strawberry.type(description="What a caller can change; input a person can fix comes back as userErrors.")
class Mutation(
    AuthMutations,
    ProjectMutations,
    ApiKeyMutations,
    ManagementTokenMutations,
    WorkspaceMutations,
    PeopleMutations,
    WebhookMutations,
):
    pass


def validation_guards(settings: Settings) -> list[type[ASTValidationRule]]:
    """The depth, alias and introspection rules, built once per schema.

    `QueryDepthLimiter` and `MaxAliasesLimiter` make a new rule class per instance, and the
    validation cache is keyed by the rule classes: built per request (as factories are), every
    request missed the cache and validated its document again, a third of a request's CPU.
    """
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    install_sibling_cancellation()
    guard_rules = validation_guards(settings)
    extensions: list[Callable[[], Any] | type] = [
        ErrorPolicy,
        lambda: DocumentChecks(
            max_tokens=settings.max_query_tokens,
            rules=guard_rules,
            max_selections=settings.max_query_selections,
            max_nodes=settings.max_query_nodes,
            hide_suggestions=not settings.introspection,
        ),
    ]
    if settings.metrics:
        names = OperationNames(settings.metrics_max_operation_names)
        extensions.append(lambda: OperationMetrics(names))
    if settings.otel:
        from app.graphql.tracing import KeywardOpenTelemetry

        extensions.append(KeywardOpenTelemetry)
    return KeywardSchema(
        query=Query,
        mutation=Mutation,
        types=[
            Workspace,
            Project,
            ApiKey,
            ManagementToken,
            StaleTokenReport,
            AuditEvent,
            WebhookEndpoint,
            WebhookDelivery,
            Member,
            Invitation,
        ],
        extensions=extensions,
        hide_suggestions=not settings.introspection,
    )


schema = build_schema()
