"""Reading stale-token reports (the sweep that writes them lives in app.services.stale_sweep)."""

from dataclasses import dataclass
from datetime import datetime

from app.models import StaleTokenReport, StaleTokenReportApiKey, StaleTokenReportEntry, Workspace
from app.security.principal import Principal
from app.services.errors import NotFound
from app.services.pagination import Page, paginate

# The order of a report's entries: the longest idle first (the sweep writes them in no order).
ENTRY_ORDER = ("report_id", "-idle_days", "token_id")
# The order of a report's expiring API keys: the soonest to expire first.
KEY_ORDER = ("report_id", "expires_at", "api_key_id")


async def list_reports(principal: Principal, first: int | None, after: str | None) -> Page[StaleTokenReport]:
    return await paginate(StaleTokenReport.filter(workspace_id=principal.workspace_id), first, after, newest_first=True)


async def entries_of(principal: Principal, report_id: int) -> list[StaleTokenReportEntry]:
    """The entries of one of the caller's reports, the longest idle first, with their tokens."""
    return (
        await StaleTokenReportEntry.filter(report_id=report_id, report__workspace_id=principal.workspace_id)
        .order_by(*ENTRY_ORDER)
        .prefetch_related("token")
    )


async def expiring_api_keys_of(principal: Principal, report_id: int) -> list[StaleTokenReportApiKey]:
    """The API keys one of the caller's reports lists as expiring soon, the soonest first, with their keys."""
    return (
        await StaleTokenReportApiKey.filter(report_id=report_id, report__workspace_id=principal.workspace_id)
        .order_by(*KEY_ORDER)
        .prefetch_related("api_key")
    )


@dataclass(frozen=True)
class ReportEntryView:
    token_id: int
    token_name: str
    key_prefix: str
    reason: str
    last_used_at: datetime | None
    idle_days: int
    auto_revoked: bool


@dataclass(frozen=True)
class ExpiringKeyView:
    key_id: int
    key_name: str
    key_prefix: str
    project_id: int
    project_name: str
    expires_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class ReportView:
    id: int
    workspace_id: int
    workspace_name: str
    generated_at: datetime
    stale_after_days: int
    entries: list[ReportEntryView]
    expiring_api_keys: list[ExpiringKeyView]


async def newest_reports(workspace_id: int | None = None) -> list[ReportView]:
    """The newest report of one workspace, or of every workspace that has one (for `keyward stale-report`).

    NotFound when `workspace_id` names no workspace: "no report yet" would hide a mistyped number.
    """
    query = StaleTokenReport.all()
    if workspace_id is not None:
        if not await Workspace.exists(id=workspace_id):
            raise NotFound("Workspace", ("workspace",))
        query = query.filter(workspace_id=workspace_id)
    newest: dict[int, StaleTokenReport] = {}
    for report in await query.order_by("-id").prefetch_related("workspace"):
        newest.setdefault(report.workspace_id, report)  # type: ignore[attr-defined]
    if not newest:
        return []
    entries = (
        await StaleTokenReportEntry.filter(report_id__in=[r.id for r in newest.values()])
        .order_by(*ENTRY_ORDER)
        .prefetch_related("token")
    )
    by_report: dict[int, list[ReportEntryView]] = {}
    for entry in entries:
        by_report.setdefault(entry.report_id, []).append(  # type: ignore[attr-defined]
            ReportEntryView(
                token_id=entry.token.id,
                token_name=entry.token.name,
                key_prefix=entry.token.key_prefix,
                reason=entry.reason,
                last_used_at=entry.last_used_at,
                idle_days=entry.idle_days,
                auto_revoked=entry.auto_revoked,
            )
        )
    keys: dict[int, list[ExpiringKeyView]] = {}
    for row in (
        await StaleTokenReportApiKey.filter(report_id__in=[r.id for r in newest.values()])
        .order_by(*KEY_ORDER)
        .prefetch_related("api_key__project")
    ):
        keys.setdefault(row.report_id, []).append(  # type: ignore[attr-defined]
            ExpiringKeyView(
                key_id=row.api_key.id,
                key_name=row.api_key.name,
                key_prefix=row.api_key.key_prefix,
                project_id=row.api_key.project.id,
                project_name=row.api_key.project.name,
                expires_at=row.expires_at,
                last_used_at=row.last_used_at,
            )
        )
    return [
        ReportView(
            id=report.id,
            workspace_id=report.workspace.id,
            workspace_name=report.workspace.name,
            generated_at=report.generated_at,
            stale_after_days=report.stale_after_days,
            entries=by_report.get(report.id, []),
            expiring_api_keys=keys.get(report.id, []),
        )
        for report in sorted(newest.values(), key=lambda r: r.workspace.id)
    ]
