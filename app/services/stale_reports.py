"""Reading stale-token reports (the sweep that writes them lives in app.services.stale_sweep)."""

from app.models import StaleTokenReport
from app.security.principal import Principal
from app.services.pagination import Page, paginate


async def list_reports(principal: Principal, first: int | None, after: str | None) -> Page[StaleTokenReport]:
    return await paginate(StaleTokenReport.filter(workspace_id=principal.workspace_id), first, after, newest_first=True)
