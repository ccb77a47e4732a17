"""Tortoise models: the storage shape of workspaces, people, projects, keys, tokens and audit."""

from app.models.attempts import AttemptCounter
from app.models.audit import AuditEvent
from app.models.keys import ApiKey, ManagementToken
from app.models.people import Invitation, Membership, Session, User
from app.models.projects import Project
from app.models.stale import StaleTokenReport, StaleTokenReportApiKey, StaleTokenReportEntry
from app.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.models.workspaces import Workspace

__all__ = [
    "ApiKey",
    "AttemptCounter",
    "AuditEvent",
    "Invitation",
    "ManagementToken",
    "Membership",
    "Project",
    "Session",
    "StaleTokenReport",
    "StaleTokenReportApiKey",
    "StaleTokenReportEntry",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "Workspace",
]
