"""Budgets for log-ins and for sign-up answers, counted before any password is checked.

Log-in, with every budget over one window (`login_lockout_seconds`, 15 minutes by default; a spent
budget stays closed for one full window from the attempt that spent it):

- per email and client address (`login_max_failures`, 5): what one attacker gets against one
  account; it locks that attacker's address out of that account only, never the person elsewhere;
- per client address (`login_max_failures_per_ip`, 30): one address spraying many emails;
- per email from addresses that have not logged in to it (`login_max_failures_per_email`, 20):
  guesses spread over many addresses. An address where the person logged in (or signed up) in
  the last 30 days is recognised and skips this budget, so an attacker who exhausts it still
  cannot keep the person out from their usual address. This is GitHub's shape (limit the guessing
  address, be wary of unfamiliar devices) rather than a lock on the account itself (GitLab's
  default: ten failures lock the account for everyone for ten minutes), which is the weapon.

The budgets are checked in that order and each is counted only when the ones before it passed, so
attempts refused by the first cannot use up the others: one address hammering one email can never
exhaust the email's own budget. A log-in that succeeds takes its attempt back. The counting does
not depend on whether the email has an account, so every refusal reads the same for both.

IPv6 clients are counted per /64 (one host usually holds a whole /64); a missing address counts in
one shared "unknown" bucket.

Sign-up tells its caller when an email already has an account (EMAIL_TAKEN); invitations never do.
Attempts per client address that did not create an account are budgeted
(`signup_max_refusals_per_ip` per `signup_window_seconds`), which bounds that disclosure.
"""

import ipaddress
import math
from dataclasses import dataclass, field

from app.services import attempt_counters
from app.services.attempt_counters import Count
from app.services.errors import UserInputError
from app.settings import get_settings

RECOGNISED_ADDRESS_DAYS = 30
UNKNOWN_ADDRESS = "unknown"


class TooManyAttempts(UserInputError):
    def __init__(self, message: str, counted: Count) -> None:
        minutes = max(1, math.ceil(counted.seconds_left() / 60))
        super().__init__(
            f"{message}: try again in {minutes} minute{'s' if minutes != 1 else ''}.", "TOO_MANY_ATTEMPTS", ("email",)
        )


def address_key(ip_address: str | None) -> str:
    """The address as counted: IPv4 as is, IPv6 by its /64, anything else (or none) as "unknown"."""
    if not ip_address:
        return UNKNOWN_ADDRESS
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return UNKNOWN_ADDRESS
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


@dataclass
class Admission:
    """The attempts counted for one log-in or sign-up; `succeeded` takes them back."""

    counted: list[Count] = field(default_factory=list)
    recognise: str | None = None  # the bucket that marks this address as recognised for the email

    async def succeeded(self) -> None:
        for counted in self.counted:
            await attempt_counters.refund(counted)
        if self.recognise is not None:
            await attempt_counters.mark(self.recognise, RECOGNISED_ADDRESS_DAYS * 86400)

    async def count_against(self, bucket_id: str, budget: int, window: float, refusal: str) -> None:
        counted = await attempt_counters.count(bucket_id, budget, window)
        if counted.attempts > budget:
            # Earlier budgets gave this attempt a place it will not use.
            for earlier in self.counted:
                await attempt_counters.refund(earlier)
            raise TooManyAttempts(refusal, counted)
        self.counted.append(counted)


LOG_IN_REFUSAL = "Too many failed log-ins"


async def admit_log_in(email: str | None, ip_address: str | None) -> Admission:
    """Counts a log-in attempt before the password is checked; raises TooManyAttempts over a budget.

    `email` is None for an address that is not a valid email (only the address budget applies).
    """
    settings = get_settings()
    window = settings.login_lockout_seconds
    address = address_key(ip_address)
    admission = Admission()
    if email is not None:
        await admission.count_against(
            attempt_counters.bucket("log-in:email+address", email, address),
            settings.login_max_failures,
            window,
            LOG_IN_REFUSAL,
        )
    await admission.count_against(
        attempt_counters.bucket("log-in:address", address), settings.login_max_failures_per_ip, window, LOG_IN_REFUSAL
    )
    if email is not None:
        admission.recognise = attempt_counters.bucket("log-in:recognised", email, address)
        if not await attempt_counters.is_marked(admission.recognise):
            await admission.count_against(
                attempt_counters.bucket("log-in:email", email),
                settings.login_max_failures_per_email,
                window,
                LOG_IN_REFUSAL,
            )
    return admission


async def recognise_address(email: str, ip_address: str | None) -> None:
    """The address signed up (or otherwise proved the password) for this email: it skips the email budget."""
    await attempt_counters.mark(
        attempt_counters.bucket("log-in:recognised", email, address_key(ip_address)), RECOGNISED_ADDRESS_DAYS * 86400
    )


async def admit_sign_up(ip_address: str | None) -> Admission:
    """Counts a sign-up attempt; `succeeded` once the account was created."""
    settings = get_settings()
    admission = Admission()
    await admission.count_against(
        attempt_counters.bucket("sign-up:address", address_key(ip_address)),
        settings.signup_max_refusals_per_ip,
        settings.signup_window_seconds,
        "Too many attempts with emails that already have an account from this address",
    )
    return admission
