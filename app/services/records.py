"""The stored records services hand to their callers, by the names callers annotate them with.

The GraphQL layer turns these into schema types; it reads them and never queries them (it goes
through the service functions), so it depends on services and never on app.models.
"""

from app.models import (
    ApiKey,
    AuditEvent,
    Invitation,
    ManagementToken,
    Membership,
    Project,
    StaleTokenReport,
    StaleTokenReportApiKey,
    StaleTokenReportEntry,
    WebhookDelivery,
    WebhookEndpoint,
    Workspace,
)

ApiKeyRecord = ApiKey
AuditEventRecord = AuditEvent
InvitationRecord = Invitation
MembershipRecord = Membership  # with its `user` loaded
ManagementTokenRecord = ManagementToken
ProjectRecord = Project
StaleTokenReportRecord = StaleTokenReport
StaleTokenReportEntryRecord = StaleTokenReportEntry
StaleTokenReportApiKeyRecord = StaleTokenReportApiKey  # with its `api_key` loaded
WebhookDeliveryRecord = WebhookDelivery
WebhookEndpointRecord = WebhookEndpoint
WorkspaceRecord = Workspace
