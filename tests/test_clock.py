"""The application's clock: tests move it instead of sleeping, in their own process and in servers they start."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app import clock
from tests.support.app_clock import AppClock, clock_file_setting
from tests.support.serve_processes import keyward_environment

ROOT = Path(__file__).resolve().parents[1]
READ_THE_CLOCK = "from app.clock import utcnow; print(utcnow().isoformat())"


def _clock_of_a_process(env: dict[str, str]) -> datetime:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", READ_THE_CLOCK],
        cwd=ROOT,
        env={**env, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return datetime.fromisoformat(done.stdout.strip())


def test_the_fixture_moves_the_clock_forward_and_puts_it_back(app_clock: AppClock) -> None:
    # when
    app_clock.advance(days=3)
    # then
    assert clock.utcnow() - datetime.now(UTC) > timedelta(days=3) - timedelta(minutes=1)
    clock.reset()
    assert abs(clock.utcnow() - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_process_started_with_the_clock_file_setting_runs_that_far_ahead(tmp_path: Path) -> None:
    # given the environment a test gives `keyward serve` or `keyward worker`, with a clock a day ahead
    env = keyward_environment("sqlite://:memory:", None, clock_file_setting(tmp_path / "clock", timedelta(days=1)))
    # when another process reads the application's clock
    ahead = _clock_of_a_process(env) - datetime.now(UTC)
    # then it is a day ahead of this one's
    assert timedelta(hours=23) < ahead <= timedelta(days=1)


def test_without_the_setting_a_process_reads_the_real_time() -> None:
    env = {k: v for k, v in os.environ.items() if k != clock.CLOCK_FILE_VARIABLE}
    assert abs(_clock_of_a_process(env) - datetime.now(UTC)) < timedelta(hours=1)
