"""The suite touches nothing of yours: its own Redis unless told otherwise, ports from one setting,
and tests that need a missing program are skipped loudly (failed under KEYWARD_TEST_STRICT)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from tests.support import ports
from tests.support.ports import DEFAULT_TEST_PORTS, free_port, port_range

ROOT = Path(__file__).resolve().parents[1]


def test_redis_is_the_suites_own_unless_one_is_given(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        if os.environ.get("KEYWARD_TEST_REDIS_URL"):
            assert redis_url == os.environ["KEYWARD_TEST_REDIS_URL"]
            return
        # a redis-server started for this run: on a port of KEYWARD_TEST_PORTS, keeping its files in a temporary folder
        assert client.connection_pool.connection_kwargs["port"] in port_range()
        folder = client.config_get("dir")["dir"]
        assert Path(folder).name.startswith("keyward-redis-")
    finally:
        client.close()


def test_ports_come_from_one_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setenv("KEYWARD_TEST_PORTS", "20950-20959")
    monkeypatch.setattr(ports, "_handed_out", set())
    # when
    taken = [free_port() for _ in range(3)]
    # then: distinct ports of the range, even before any server binds them
    assert len(set(taken)) == 3 and all(20950 <= port <= 20959 for port in taken)
    monkeypatch.setenv("KEYWARD_TEST_PORTS", "nonsense")
    with pytest.raises(ValueError, match="KEYWARD_TEST_PORTS"):
        free_port()


def test_only_the_ports_module_reads_the_setting_and_the_readme_gives_its_default() -> None:
    reads = re.compile(r"""environ(?:\.get\(|\[)\s*["']KEYWARD_TEST_PORTS""")
    readers = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("*.py") if reads.search(path.read_text())
    )
    assert readers == ["tests/support/ports.py"]
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"`KEYWARD_TEST_PORTS`[^\n]*`{DEFAULT_TEST_PORTS}`", readme)


def _run_browser_tests(**env: str) -> subprocess.CompletedProcess[str]:
    """The GraphiQL browser tests in a pytest of their own, with no chromium where they look for it."""
    environment = {
        **os.environ,
        "KEYWARD_TEST_CHROMIUM": "/nonexistent/chromium",
        "KEYWARD_TEST_DATABASE_URL": "",  # never the outer run's PostgreSQL database: the inner run would reset it
        **env,
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/browser/test_graphiql.py"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_missing_browser_skips_the_browser_tests_with_one_loud_line() -> None:
    done = _run_browser_tests(KEYWARD_TEST_STRICT="")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 skipped" in done.stdout
    loud = [line for line in done.stdout.splitlines() if "SKIPPED every test that needs chromium" in line]
    assert len(loud) == 1 and loud[0].startswith("!!!"), done.stdout


def test_under_strict_a_missing_browser_fails_the_run() -> None:
    done = _run_browser_tests(KEYWARD_TEST_STRICT="1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 failed" in done.stdout or "2 errors" in done.stdout, done.stdout
    assert "chromium is missing" in done.stdout


def _collected(*args: str) -> list[str]:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "--collect-only", "-q", *args],
        cwd=ROOT,
        env={**os.environ, "KEYWARD_TEST_DATABASE_URL": ""},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_every_browser_test_carries_the_browser_marker_and_only_those() -> None:
    # when the browser tests and one other module are collected with and without the marker
    paths = ("tests/browser", "tests/test_cursors.py")
    browser, other = _collected("-m", "browser", *paths), _collected("-m", "not browser", *paths)
    # then the marker selects exactly the tests under tests/browser
    assert browser and all(test.startswith("tests/browser/") for test in browser)
    assert other and all(test.startswith("tests/test_cursors.py::") for test in other)
    modules = {f"tests/browser/{path.name}" for path in (ROOT / "tests" / "browser").glob("test_*.py")}
    assert {test.split("::")[0] for test in browser} == modules
