"""The ceiling of the batching row: the real app recording no usage at all. Bench only.

No way of recording a use can make a request cheaper than not recording it, so the throughput
of this app over the per-request UPDATE variant's is the highest ratio any last-used design can
reach on the machine the bench runs on. The batching row measures it in the same run and reports
it beside its own ratio, so a target above that ceiling shows as such instead of as a slow buffer.
"""

from starlette.applications import Starlette

from app.main import create_app as create_real_app
from app.usage.model import Use
from bench.per_request_update import PerRequestUpdate


class RecordsNothing(PerRequestUpdate):
    """The per-request variant's usage seam with its one UPDATE taken out: nothing is recorded."""

    async def record(self, use: Use, expect: str | None = None) -> str | None:
        return None


def create_app() -> Starlette:
    application = create_real_app()
    application.state.usage.buffer = RecordsNothing()
    return application
