"""The image and compose file: locked installs, a non-root user, a health check, credentials from an
env file, and forwarded headers trusted from no one while the API port is published directly."""

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_ENV = {"POSTGRES_PASSWORD": "compose-test-postgres", "REDIS_PASSWORD": "compose-test-redis"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_the_image_installs_the_locked_dependencies_with_their_hashes() -> None:
    runs = " ".join(arg for op, arg in dockerfile_instructions() if op == "RUN")
    assert "--require-hashes -r requirements.lock" in runs
    assert "--no-deps --no-build-isolation ." in runs
    assert "requirements.lock" in (ROOT / ".dockerignore").read_text()


def test_the_image_runs_as_a_user_that_is_not_root_and_has_a_health_check() -> None:
    stage = final_stage()
    users = [arg for op, arg in stage if op == "USER"]
    assert users, "no USER in the final stage: the service would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    health = [arg for op, arg in stage if op == "HEALTHCHECK"]
    assert len(health) == 1 and "/readyz" in health[0] and "CMD" in health[0]
    position = {op: i for i, (op, _) in enumerate(stage)}
    assert position["USER"] < position["CMD"]


def test_compose_trusts_forwarded_headers_from_no_one_while_it_publishes_the_api_directly() -> None:
    services = compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"api"}, "only the API is reachable from outside; PostgreSQL and Redis are not"
    anchor = compose()["x-keyward"]["environment"]
    for name, service in services.items():
        environment = {**anchor, **(service.get("environment") or {})} if "build" in service else {}
        trusted = environment.get("KEYWARD_FORWARDED_ALLOW_IPS")
        assert trusted in (None, "127.0.0.1"), f"{name} trusts X-Forwarded-For from {trusted!r}"


def test_compose_takes_every_credential_from_the_env_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    # every password is a required variable, never a literal
    assert re.findall(r"POSTGRES_PASSWORD: (.+)", text) == [
        "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env (see .env.example)}"
    ]
    for url in re.findall(r"KEYWARD_(?:DATABASE|REDIS)_URL: (\S+)", text):
        assert re.search(r"://[^@]*\$\{[A-Z_]+_PASSWORD:\?", url), url
    # the example is committed with empty values; the real file is ignored
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and line[0] != "#"
    )
    assert example == {"POSTGRES_PASSWORD": "", "REDIS_PASSWORD": ""}
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)  # noqa: S607
    assert ignored.returncode == 0, ".env is not ignored by git"


def _compose_command() -> list[str] | None:
    if (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"],  # noqa: S607
            capture_output=True,
            check=False,
        ).returncode
        == 0
    ):
        return ["docker", "compose"]
    if found := shutil.which("docker-compose"):
        return [found]
    return None


def test_docker_compose_config_accepts_the_file_and_refuses_it_without_credentials(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    base = [*command, "--project-directory", str(tmp_path), "-f", str(ROOT / "docker-compose.yml")]
    environment = {k: v for k, v in os.environ.items() if k not in COMPOSE_ENV}
    # with the credentials set, the file is valid
    done = subprocess.run([*base, "config", "-q"], env={**environment, **COMPOSE_ENV}, capture_output=True, text=True)  # noqa: S603
    assert done.returncode == 0, done.stderr
    # without them, compose refuses and says where to set them
    refused = subprocess.run([*base, "config", "-q"], env=environment, capture_output=True, text=True)  # noqa: S603
    assert refused.returncode != 0 and "set POSTGRES_PASSWORD in .env" in refused.stderr
