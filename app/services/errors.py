"""Failures a service reports to its caller; the GraphQL layer turns them into userErrors."""

import enum
from dataclasses import dataclass


class UserErrorCode(enum.StrEnum):
    """Every code a user error can carry; the schema publishes them as the enum UserErrorCode.

    Services raise `UserInputError(message, "CODE", field)`; tests/test_error_codes.py holds every
    code raised to be one of these.
    """

    ALREADY_MEMBER = "ALREADY_MEMBER"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    ALREADY_ROTATED = "ALREADY_ROTATED"
    BLANK = "BLANK"
    CONFLICT = "CONFLICT"
    DESTINATION_NOT_ALLOWED = "DESTINATION_NOT_ALLOWED"
    DUPLICATE_NAME = "DUPLICATE_NAME"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    ENDPOINT_DISABLED = "ENDPOINT_DISABLED"
    EXPIRED = "EXPIRED"
    EXPIRY_IN_PAST = "EXPIRY_IN_PAST"
    EXPIRY_NOT_SHORTENED = "EXPIRY_NOT_SHORTENED"
    EXPIRY_REQUIRED = "EXPIRY_REQUIRED"
    EXPIRY_TOO_LATE = "EXPIRY_TOO_LATE"
    INVALID = "INVALID"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_CURSOR = "INVALID_CURSOR"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_EVENT = "INVALID_EVENT"
    INVALID_INVITATION = "INVALID_INVITATION"
    INVALID_IP = "INVALID_IP"
    INVALID_META = "INVALID_META"
    INVALID_PAGE_SIZE = "INVALID_PAGE_SIZE"
    INVALID_URL = "INVALID_URL"
    INVITATION_ACCEPTED = "INVITATION_ACCEPTED"
    INVITATION_EXPIRED = "INVITATION_EXPIRED"
    INVITATION_REVOKED = "INVITATION_REVOKED"
    LAST_OWNER = "LAST_OWNER"
    MAIL_NOT_SENT = "MAIL_NOT_SENT"
    META_TOO_LARGE = "META_TOO_LARGE"
    NOTHING_TO_UPDATE = "NOTHING_TO_UPDATE"
    NOT_FOUND = "NOT_FOUND"
    NOT_PENDING = "NOT_PENDING"
    NO_EVENTS = "NO_EVENTS"
    NO_PERMISSIONS = "NO_PERMISSIONS"
    NO_PROJECTS = "NO_PROJECTS"
    NO_WORKSPACE = "NO_WORKSPACE"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    PASSWORD_FROM_EMAIL = "PASSWORD_FROM_EMAIL"
    PASSWORD_REQUIRED = "PASSWORD_REQUIRED"
    PASSWORD_TOO_LONG = "PASSWORD_TOO_LONG"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    REVOKED = "REVOKED"
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"
    SIGN_UP_CLOSED = "SIGN_UP_CLOSED"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    TOO_MANY_ENTRIES = "TOO_MANY_ENTRIES"


# One line each, for the schema's docs pane.
USER_ERROR_DESCRIPTIONS: dict[UserErrorCode, str] = {
    UserErrorCode.ALREADY_MEMBER: "The person is a member of this workspace already.",
    UserErrorCode.ALREADY_REVOKED: "The management token was revoked before.",
    UserErrorCode.ALREADY_ROTATED: "The management token has a replacement already: rotate the replacement.",
    UserErrorCode.BLANK: "The text is empty or has no visible character.",
    UserErrorCode.CONFLICT: "Something changed meanwhile: try again.",
    UserErrorCode.DESTINATION_NOT_ALLOWED: "The webhook URL points at an address deliveries may not reach.",
    UserErrorCode.DUPLICATE_NAME: "An active management token of this workspace has this name.",
    UserErrorCode.EMAIL_TAKEN: "An account with this email exists.",
    UserErrorCode.ENDPOINT_DISABLED: "The webhook endpoint is disabled: enable it first.",
    UserErrorCode.EXPIRED: "The credential has expired.",
    UserErrorCode.EXPIRY_IN_PAST: "The expiry is not in the future.",
    UserErrorCode.EXPIRY_NOT_SHORTENED: "An expiry can be brought forward, never extended or removed: rotate instead.",
    UserErrorCode.EXPIRY_REQUIRED: "The workspace's maxTokenLifetimeDays requires an expiry.",
    UserErrorCode.EXPIRY_TOO_LATE: "The expiry is later than allowed (the workspace's maximum lifetime, or 30 days "
    "of rotation grace).",
    UserErrorCode.INVALID: "The text contains control or invisible formatting characters.",
    UserErrorCode.INVALID_CREDENTIALS: "The email or the password is wrong.",
    UserErrorCode.INVALID_CURSOR: "The cursor did not come from this connection.",
    UserErrorCode.INVALID_EMAIL: "Not a valid email address.",
    UserErrorCode.INVALID_EVENT: "An event a webhook endpoint cannot subscribe to.",
    UserErrorCode.INVALID_META: "An API key's meta must be a JSON object.",
    UserErrorCode.INVALID_INVITATION: "Not an invitation token that was issued (check that it was copied whole).",
    UserErrorCode.INVALID_IP: "An IP allowlist entry is not an address or a CIDR range (the message names it).",
    UserErrorCode.INVALID_PAGE_SIZE: "`first` is outside 0 to 100.",
    UserErrorCode.INVALID_URL: "Not an http(s) URL a webhook can be delivered to.",
    UserErrorCode.INVITATION_ACCEPTED: "The invitation was accepted already: it works once.",
    UserErrorCode.INVITATION_EXPIRED: "The invitation has expired: ask for a new one.",
    UserErrorCode.INVITATION_REVOKED: "The invitation was revoked (or replaced by a newer one).",
    UserErrorCode.LAST_OWNER: "A workspace needs an owner: the last one can be neither demoted nor removed, nor leave.",
    UserErrorCode.MAIL_NOT_SENT: "The SMTP server refused the mail or did not answer.",
    UserErrorCode.META_TOO_LARGE: "An API key's meta is larger than 4 KB encoded.",
    UserErrorCode.NOTHING_TO_UPDATE: "The input changes nothing.",
    UserErrorCode.NOT_FOUND: "No such object in the caller's workspace (unknown, deleted or elsewhere look alike).",
    UserErrorCode.NOT_PENDING: "The invitation is no longer pending.",
    UserErrorCode.NO_EVENTS: "A webhook endpoint needs at least one event.",
    UserErrorCode.NO_PERMISSIONS: "A management token needs at least one permission.",
    UserErrorCode.NO_PROJECTS: "A token's project list is empty: name a project, or leave it out for every project.",
    UserErrorCode.NO_WORKSPACE: "The account belongs to no workspace any more: it needs an invitation.",
    UserErrorCode.OUT_OF_RANGE: "A number outside the range the message gives.",
    UserErrorCode.PASSWORD_FROM_EMAIL: "The password is made from the email address.",
    UserErrorCode.PASSWORD_REQUIRED: "A password is needed: a new account's, or the existing account's own.",
    UserErrorCode.PASSWORD_TOO_LONG: "The password is longer than allowed.",
    UserErrorCode.PASSWORD_TOO_SHORT: "The password is shorter than allowed.",
    UserErrorCode.PASSWORD_TOO_WEAK: "The password is too easy to guess.",
    UserErrorCode.REVOKED: "The credential is revoked, so it cannot be changed.",
    UserErrorCode.ROLE_NOT_ALLOWED: "The caller's role cannot give this role.",
    UserErrorCode.SIGN_UP_CLOSED: "Sign-up is closed on this server (KEYWARD_SIGNUP): people join by invitation.",
    UserErrorCode.TOO_LONG: "The text is longer than allowed.",
    UserErrorCode.TOO_MANY: "The workspace has as many of these as it may.",
    UserErrorCode.TOO_MANY_ATTEMPTS: "Too many failed attempts: wait for the time the message gives.",
    UserErrorCode.TOO_MANY_ENTRIES: "A list holds more entries than allowed (an IP allowlist: 100).",
}


@dataclass
class UserInputError(Exception):
    """Input a person can fix. `field` is the path inside the mutation's input; `code` a UserErrorCode value."""

    message: str
    code: str
    field: tuple[str, ...] | None = None

    def __str__(self) -> str:
        return self.message


class NotFound(UserInputError):
    """Unknown, deleted, or in another workspace: all three look the same to the caller."""

    def __init__(self, what: str, field: tuple[str, ...] = ("id",)) -> None:
        super().__init__(f"{what} not found.", UserErrorCode.NOT_FOUND, field)
