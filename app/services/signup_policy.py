"""Who may sign up (KEYWARD_SIGNUP): `open`, `first` (until the first account exists) or `closed`.

Sign-up creates an account and a workspace. Under `first` the check and the insert of the first
account take turns across processes (a transaction-scoped advisory lock on PostgreSQL; SQLite runs
one write transaction at a time), so two first sign-ups at once make one account, not two.
Invitations and `keyward create-owner` are not sign-ups: they work under every policy.
"""

import enum

from tortoise import BaseDBAsyncClient

from app.models import User
from app.services.errors import UserInputError
from app.settings import get_settings

# pg_advisory_xact_lock key: "kw" "signup" in ASCII, distinct from the stale sweep's.
ADVISORY_LOCK_KEY = 0x6B77_7369_676E_7570


class SignUpPolicy(enum.Enum):
    OPEN = "OPEN"
    FIRST_ONLY = "FIRST_ONLY"
    CLOSED = "CLOSED"


_FROM_SETTING = {"open": SignUpPolicy.OPEN, "first": SignUpPolicy.FIRST_ONLY, "closed": SignUpPolicy.CLOSED}


def current_policy() -> SignUpPolicy:
    return _FROM_SETTING[get_settings().signup]


async def sign_up_open(using_db: BaseDBAsyncClient | None = None) -> bool:
    """Whether `signUp` would be admitted now."""
    policy = current_policy()
    if policy is SignUpPolicy.OPEN:
        return True
    if policy is SignUpPolicy.CLOSED:
        return False
    return not await User.all().using_db(using_db).exists()


async def admit_sign_up(conn: BaseDBAsyncClient) -> None:
    """Inside the sign-up transaction, before the account is inserted: raises SIGN_UP_CLOSED when refused."""
    if current_policy() is SignUpPolicy.FIRST_ONLY and conn.capabilities.dialect == "postgres":
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [ADVISORY_LOCK_KEY])
    if not await sign_up_open(conn):
        raise sign_up_closed()


def sign_up_closed() -> UserInputError:
    return UserInputError(
        "Sign-up is closed on this server: ask an admin of a workspace for an invitation.", "SIGN_UP_CLOSED", None
    )
