"""`keyward scan PATH…` as a pre-commit hook runs it: a real process, files on disk, exit codes, and
`--report URL` against a real `keyward serve`."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from app.security import tokens
from app.security.tokens import TokenKind
from tests.support.api import CREATE_TOKEN, PASSWORD, SIGN_UP
from tests.support.serve_processes import serve

REPOSITORY = Path(__file__).resolve().parents[1]


def keyward_scan(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYWARD_")}
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "keyward", "scan", *args],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_secrets_are_found_with_file_line_and_prefix_only(tmp_path: Path) -> None:
    # given: every kind, in text and in a binary file; a lookalike with a bad checksum; a .git folder
    values = {kind: tokens.generate(kind).value for kind in TokenKind}
    lookalike = values[TokenKind.API_KEY][:-1] + ("a" if values[TokenKind.API_KEY][-1] != "a" else "b")
    (tmp_path / "config.env").write_text(
        f"# settings\nKEYWARD_TOKEN={values[TokenKind.MANAGEMENT]}\nOTHER=1\nkey: '{values[TokenKind.API_KEY]}'\n"
    )
    nested = tmp_path / "deep" / "er"
    nested.mkdir(parents=True)
    (nested / "notes.md").write_text(
        f"session {values[TokenKind.SESSION]} and secret {values[TokenKind.WEBHOOK_SIGNING_SECRET]}\n"
    )
    (nested / "blob.bin").write_bytes(b"\x00\xff" + values[TokenKind.MANAGEMENT].encode() + b"\x00\n")
    (tmp_path / "lookalike.txt").write_text(f"{lookalike}\nxkwm_{'a' * 36}\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "ORIG_HEAD").write_text(values[TokenKind.MANAGEMENT])
    # when
    done = keyward_scan(str(tmp_path))
    # then
    assert done.returncode == 1, done
    lines = done.stdout.splitlines()
    assert lines == [
        f"{tmp_path}/config.env:2: management token {values[TokenKind.MANAGEMENT][:12]}…",
        f"{tmp_path}/config.env:4: API key {values[TokenKind.API_KEY][:12]}…",
        f"{nested}/blob.bin:1: management token {values[TokenKind.MANAGEMENT][:12]}…",
        f"{nested}/notes.md:1: session token {values[TokenKind.SESSION][:12]}…",
        f"{nested}/notes.md:1: webhook signing secret {values[TokenKind.WEBHOOK_SIGNING_SECRET][:12]}…",
    ]
    for value in values.values():
        assert value not in done.stdout and value not in done.stderr


def test_a_clean_tree_passes_and_a_missing_path_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("kwm_ is the prefix of a management token\n")
    assert keyward_scan(str(tmp_path), str(tmp_path / "README.md")).returncode == 0
    missing = keyward_scan(str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_the_pre_commit_hook_runs_keyward_scan() -> None:
    hooks = (REPOSITORY / ".pre-commit-hooks.yaml").read_text()
    assert "- id: keyward-scan" in hooks and "entry: keyward scan" in hooks and "language: python" in hooks


def test_report_sends_what_was_found_to_the_server_which_revokes_it(database_url: str, tmp_path: Path) -> None:
    with serve(database_url) as server, httpx.Client(base_url=server.base_url, timeout=10) as http:
        # given: a live management token committed to a file
        signed_up = http.post(
            "/graphql",
            json={
                "query": SIGN_UP,
                "variables": {
                    "input": {
                        "email": f"scan-{uuid.uuid4().hex[:8]}@example.com",
                        "password": PASSWORD,
                        "workspaceName": "Scan",
                    }
                },
            },
        ).json()
        session = signed_up["data"]["signUp"]["sessionToken"]
        created = http.post(
            "/graphql",
            json={
                "query": CREATE_TOKEN,
                "variables": {"input": {"name": "committed", "permissions": ["VIEW_PROJECTS"]}},
            },
            headers={"Authorization": f"Bearer {session}"},
        ).json()
        secret = created["data"]["createManagementToken"]["secret"]
        (tmp_path / "deploy.sh").write_text(f"export KEYWARD_TOKEN={secret}\n")
        viewer = {"query": "{ viewer { kind } }"}
        assert http.post("/graphql", json=viewer, headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        # when
        done = keyward_scan(str(tmp_path), "--report", f"{server.base_url}/v1/leaks")
        # then
        assert done.returncode == 1
        assert "recognised 1 of 1" in done.stderr
        assert secret not in done.stdout + done.stderr
        assert http.post("/graphql", json=viewer, headers={"Authorization": f"Bearer {secret}"}).status_code == 401
