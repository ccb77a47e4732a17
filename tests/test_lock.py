"""The lock files (made by scripts/lock) agree with pyproject.toml's ranges: every direct dependency
pinned inside its range with hashes, nothing pinned as direct that pyproject no longer asks for, and
the inputs they were made from are the ones pyproject.toml has now."""

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^ ;\\]+)")
RELOCK = "pyproject.toml and the lock files disagree: run scripts/lock"


@dataclass
class Pin:
    version: Version
    hashes: int = 0
    via: list[str] = field(default_factory=list)


def read_lock(name: str) -> tuple[dict[str, Pin], str]:
    pins: dict[str, Pin] = {}
    inputs = ""
    current: Pin | None = None
    for line in (ROOT / name).read_text().splitlines():
        if match := PIN.match(line):
            current = pins[canonicalize_name(match["name"])] = Pin(Version(match["version"]))
        elif line.startswith("# pyproject.toml inputs: sha256:"):
            inputs = line.rsplit(":", 1)[1]
        elif current and "--hash=sha256:" in line:
            current.hashes += 1
        elif current and line.strip().startswith("#") and line.strip() != "# via":
            current.via.append(line.strip().lstrip("#").strip().removeprefix("via ").strip())
    return pins, inputs


def pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirements(*tables: str) -> list[Requirement]:
    project = pyproject()
    lists = {
        "runtime": project["project"]["dependencies"],
        "test": project["project"]["optional-dependencies"]["test"],
        "build": project["build-system"]["requires"],
    }
    return [Requirement(text) for table in tables for text in lists[table]]


LOCKS = {"requirements.lock": ("runtime", "build"), "requirements-test.lock": ("runtime", "test", "build")}


@pytest.mark.parametrize("lock", LOCKS)
def test_every_dependency_is_pinned_inside_its_range_with_hashes(lock: str) -> None:
    pins, _ = read_lock(lock)
    for requirement in requirements(*LOCKS[lock]):
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement} is not in {lock}: {RELOCK}"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"{lock} pins {requirement.name}=={pin.version}, outside {requirement}: {RELOCK}"
        )
    assert all(pin.hashes > 0 for pin in pins.values()), f"a pin without hashes in {lock}"


@pytest.mark.parametrize("lock", LOCKS)
def test_nothing_is_pinned_as_a_direct_dependency_that_pyproject_dropped(lock: str) -> None:
    pins, _ = read_lock(lock)
    direct = {name for name, pin in pins.items() if any(v.startswith("keyward (") for v in pin.via)}
    wanted = {canonicalize_name(r.name) for r in requirements(*LOCKS[lock]) if r.name != "setuptools"}
    assert direct == wanted, RELOCK


@pytest.mark.parametrize("lock", LOCKS)
def test_the_locks_were_made_from_pyproject_as_it_is(lock: str) -> None:
    project = pyproject()
    tables = [
        project["project"]["dependencies"],
        project["project"]["optional-dependencies"]["test"],
        project["build-system"]["requires"],
    ]
    _, inputs = read_lock(lock)
    assert inputs == hashlib.sha256(json.dumps(tables).encode()).hexdigest(), RELOCK


def test_the_runtime_lock_pins_the_versions_the_tests_run_with() -> None:
    runtime, _ = read_lock("requirements.lock")
    test, _ = read_lock("requirements-test.lock")
    assert {name: pin.version for name, pin in runtime.items()} == {name: test[name].version for name in runtime}
