"""Tests that need a program from outside Python (Chromium, node, redis-server): skipped, loudly,
where it is missing, and failed instead under KEYWARD_TEST_STRICT=1 (set by .ci/run), so CI can
never pass by skipping them.

`scripts/test` installs what it can first (`scripts/install-test-tools`); whatever is still
missing is named in one line at the end of pytest's summary (see `tests/conftest.py`).
"""

import os
from typing import NoReturn

import pytest

STRICT = os.environ.get("KEYWARD_TEST_STRICT", "") not in {"", "0", "false"}

# tool -> how to get it; filled as tests find tools missing, printed once at the end of the run.
missing_tools: dict[str, str] = {}


def tool_missing(tool: str, how: str) -> NoReturn:
    """Skip the test (fail it under KEYWARD_TEST_STRICT) because `tool` is not there."""
    reason = f"{tool} is missing ({how})"
    if STRICT:
        pytest.fail(f"{reason}; KEYWARD_TEST_STRICT is set, so this test may not be skipped", pytrace=False)
    missing_tools[tool] = how
    pytest.skip(reason)


def summary_lines() -> list[str]:
    return [f"SKIPPED every test that needs {tool}: not found ({how})" for tool, how in sorted(missing_tools.items())]
