"""Who may sign up (KEYWARD_SIGNUP) and how the first owner is made: `keyward create-owner`."""

import asyncio
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from app.models import Membership, User
from app.security.permissions import WorkspaceRole
from tests.support.api import LOG_IN, PASSWORD, SIGN_UP, Account, Api
from tests.support.races import race, racing_api
from tests.support.running_app import running_api
from tests.support.serve_processes import ROOT, keyward_environment

POLICY = "{ signUpPolicy signUpOpen }"


async def _sign_up(api: Api, email: str) -> str:
    body = await api.gql(SIGN_UP, {"input": {"email": email, "password": PASSWORD, "workspaceName": "W"}})
    payload = body["data"]["signUp"]
    return payload["userErrors"][0]["code"] if payload["userErrors"] else "OK"


async def test_first_only_admits_the_first_account_and_no_other(database_url: str) -> None:
    async with running_api(database_url, signup="first") as api:
        # given an empty server: sign-up is open, and says so to anyone
        assert await api.ok(POLICY) == {"signUpPolicy": "FIRST_ONLY", "signUpOpen": True}
        # when
        first = await _sign_up(api, "first@example.com")
        second = await _sign_up(api, "second@example.com")
        # then
        assert (first, second) == ("OK", "SIGN_UP_CLOSED")
        assert await api.ok(POLICY) == {"signUpPolicy": "FIRST_ONLY", "signUpOpen": False}
        session = (await api.ok(LOG_IN, {"input": {"email": "first@example.com", "password": PASSWORD}}))["logIn"]
        viewer = await api.ok("{ viewer { signUpPolicy } }", token=session["sessionToken"])
        assert viewer == {"viewer": {"signUpPolicy": "FIRST_ONLY"}}


async def test_first_only_admits_one_of_many_concurrent_first_sign_ups(database_url: str) -> None:
    async with racing_api(database_url, signup="first") as api:
        outcomes = await race(database_url, [_sign_up(api, f"racer{n}@example.com") for n in range(8)])
        assert sorted(outcomes) == ["OK"] + ["SIGN_UP_CLOSED"] * 7
        assert await User.all().count() == 1


async def test_closed_admits_nobody_and_invitations_still_work(database_url: str) -> None:
    async with running_api(database_url, signup="closed") as api:
        assert await api.ok(POLICY) == {"signUpPolicy": "CLOSED", "signUpOpen": False}
        assert await _sign_up(api, "nobody@example.com") == "SIGN_UP_CLOSED"
        assert await User.all().count() == 0
        # the operator makes the first owner, who invites
        code, output = await create_owner("boss@example.com", "Closed Co", stdin=f"{PASSWORD}\n")
        assert code == 0, output
        session = (await api.ok(LOG_IN, {"input": {"email": "boss@example.com", "password": PASSWORD}}))["logIn"]
        owner = Account("boss@example.com", session["sessionToken"], workspace_id="")
        _, invite_token = await api.invite(owner, "MEMBER", "invited@example.com")
        assert (await api.accept(invite_token)).startswith("kws_")


async def test_open_admits_everyone(database_url: str) -> None:
    async with running_api(database_url, signup="open") as api:
        assert [await _sign_up(api, f"open{n}@example.com") for n in range(3)] == ["OK"] * 3


# ---- keyward create-owner -------------------------------------------------------------------------


async def create_owner(email: str, workspace: str, *, stdin: str = "", **settings: str) -> tuple[int, str]:
    """Run `keyward create-owner` as a process against the test database (KEYWARD_DATABASE_URL of this run)."""
    from app.settings import get_settings

    env = keyward_environment(get_settings().database_url, None, settings)
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "keyward", "create-owner", "--email", email, "--workspace", workspace),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate(stdin.encode())
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_create_owner_reads_the_password_from_stdin_or_the_environment(database_url: str) -> None:
    async with running_api(database_url, signup="closed") as api:
        # when
        by_stdin = await create_owner("Stdin@Example.com", "From stdin", stdin=f"{PASSWORD}\n")
        by_env = await create_owner("env@example.com", "From env", owner_password=PASSWORD)
        # then: both are OWNERs of their new workspace, and can log in
        for (code, output), email in ((by_stdin, "stdin@example.com"), (by_env, "env@example.com")):
            assert code == 0, output
            assert email in output and PASSWORD not in output
            # the variable it read is not called ignored (it was: "is not a Keyward setting and is ignored")
            assert "KEYWARD_OWNER_PASSWORD" not in output
            membership = await Membership.get(user__email=email)
            assert membership.role is WorkspaceRole.OWNER
            logged_in = await api.ok(LOG_IN, {"input": {"email": email, "password": PASSWORD}})
            assert logged_in["logIn"]["viewer"]["role"] == "OWNER"
        audit = await api.ok(
            "{ auditEvents { edges { node { action actor { kind } } } } }",
            token=logged_in["logIn"]["sessionToken"],
        )
        assert {"action": "owner.created", "actor": {"kind": "SYSTEM"}} in [
            e["node"] for e in audit["auditEvents"]["edges"]
        ]


async def test_create_owner_on_a_new_embedded_database_migrates_it_first(tmp_path: Path) -> None:
    # given a SQLite file no `keyward serve` made yet (create-owner stopped with a traceback: no such table)
    file = tmp_path / "new.sqlite3"
    # when the first owner is made before the first start
    code, output = await create_owner(
        "first@example.com", "First", stdin=f"{PASSWORD}\n", database_url=f"sqlite://{file}"
    )
    # then the database migrated itself, as on `keyward serve`, and holds the owner
    assert code == 0 and "Traceback" not in output, output
    with closing(sqlite3.connect(file)) as connection:
        assert connection.execute("SELECT email FROM person").fetchall() == [("first@example.com",)]


async def test_create_owner_refuses_bad_input_with_a_clear_message_and_no_password_echo(database_url: str) -> None:
    async with running_api(database_url, signup="closed"):
        assert (await create_owner("taken@example.com", "One", stdin=f"{PASSWORD}\n"))[0] == 0
        taken = await create_owner("taken@example.com", "Two", stdin=f"{PASSWORD}\n")
        weak = await create_owner("weak@example.com", "Weak", stdin="1234567890\n")
        missing = await create_owner("missing@example.com", "Missing", stdin="")
        bad_email = await create_owner("not an email", "Bad", stdin=f"{PASSWORD}\n")
        assert taken[0] == 1 and "EMAIL_TAKEN" in taken[1]
        assert weak[0] == 2 and "PASSWORD_TOO_WEAK" in weak[1] and "1234567890" not in weak[1]
        assert missing[0] == 2 and "KEYWARD_OWNER_PASSWORD" in missing[1]
        assert bad_email[0] == 2 and "INVALID_EMAIL" in bad_email[1]
        assert await User.all().count() == 1


def test_create_owner_takes_no_password_argument() -> None:
    import subprocess

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "keyward",
            "create-owner",
            "--email",
            "a@example.com",
            "--workspace",
            "W",
            "--password",
            "x",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and "unrecognized arguments: --password" in done.stderr
