"""The shutdown writes buffered uses even when another step of the shutdown fails."""

import httpx

from app.main import create_app
from app.settings import Settings
from tests.support.api import ALL_PERMISSIONS, Api
from tests.support.running_app import CLIENT_IP, empty_tables
from tests.support.sql_statements import token_row

VIEWER = "{ viewer { kind } }"


async def test_the_last_flush_runs_when_the_sweep_task_failed(settings: Settings) -> None:
    # given an embedded API whose sweep task died at start (a schedule that start-up validation
    # would refuse, slipped past it), and a token used once
    broken = settings.model_copy(update={"stale_sweep_cron": "every day"})
    application = create_app(broken)
    async with application.router.lifespan_context(application):
        await empty_tables()
        transport = httpx.ASGITransport(app=application, client=(CLIENT_IP, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
            api = Api(http)
            owner = await api.sign_up()
            token_id, secret = await api.create_token(owner, ALL_PERMISSIONS)
            await api.ok(VIEWER, token=secret)
    # when it has shut down (above, without an error); then the use reached the database
    check = create_app(settings)
    async with check.router.lifespan_context(check):
        row = await token_row(token_id)
        assert row.last_used_at is not None
        assert row.last_used_ip == CLIENT_IP
