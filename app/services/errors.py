"""Failures a service reports to its caller; the GraphQL layer turns them into userErrors."""

import enum
from dataclasses import dataclass


class UserErrorCode(enum.StrEnum):
    """Every code a user error can carry; the schema publishes them as the enum UserErrorCode.

    Services raise `UserInputError(message, "CODE", field)`; tests/test_error_codes.py holds every
    code raised to be one of these.
    """

    ALREADY_REVOKED = "ALREADY_REVOKED"
    ALREADY_ROTATED = "ALREADY_ROTATED"
    BLANK = "BLANK"
    DESTINATION_NOT_ALLOWED = "DESTINATION_NOT_ALLOWED"
    DUPLICATE_NAME = "DUPLICATE_NAME"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    ENDPOINT_DISABLED = "ENDPOINT_DISABLED"
    EXPIRED = "EXPIRED"
    INVALID = "INVALID"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_CURSOR = "INVALID_CURSOR"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_EVENT = "INVALID_EVENT"
    INVALID_PAGE_SIZE = "INVALID_PAGE_SIZE"
    INVALID_URL = "INVALID_URL"
    NOTHING_TO_UPDATE = "NOTHING_TO_UPDATE"
    NOT_FOUND = "NOT_FOUND"
    NO_EVENTS = "NO_EVENTS"
    NO_PERMISSIONS = "NO_PERMISSIONS"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    PASSWORD_FROM_EMAIL = "PASSWORD_FROM_EMAIL"
    PASSWORD_TOO_LONG = "PASSWORD_TOO_LONG"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    REVOKED = "REVOKED"
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"


# One line each, for the schema's docs pane.
USER_ERROR_DESCRIPTIONS: dict[UserErrorCode, str] = {
    UserErrorCode.ALREADY_REVOKED: "The management token was revoked before.",
    UserErrorCode.ALREADY_ROTATED: "The management token has a replacement already: rotate the replacement.",
    UserErrorCode.BLANK: "The text is empty or has no visible character.",
    UserErrorCode.DESTINATION_NOT_ALLOWED: "The webhook URL points at an address deliveries may not reach.",
    UserErrorCode.DUPLICATE_NAME: "An active management token of this workspace has this name.",
    UserErrorCode.EMAIL_TAKEN: "An account with this email exists.",
    UserErrorCode.ENDPOINT_DISABLED: "The webhook endpoint is disabled: enable it first.",
    UserErrorCode.EXPIRED: "The credential has expired.",
    UserErrorCode.INVALID: "The text contains control or invisible formatting characters.",
    UserErrorCode.INVALID_CREDENTIALS: "The email or the password is wrong.",
    UserErrorCode.INVALID_CURSOR: "The cursor did not come from this connection.",
    UserErrorCode.INVALID_EMAIL: "Not a valid email address.",
    UserErrorCode.INVALID_EVENT: "An event a webhook endpoint cannot subscribe to.",
    UserErrorCode.INVALID_PAGE_SIZE: "`first` is outside 0 to 100.",
    UserErrorCode.INVALID_URL: "Not an http(s) URL a webhook can be delivered to.",
    UserErrorCode.NOTHING_TO_UPDATE: "The input changes nothing.",
    UserErrorCode.NOT_FOUND: "No such object in the caller's workspace (unknown, deleted or elsewhere look alike).",
    UserErrorCode.NO_EVENTS: "A webhook endpoint needs at least one event.",
    UserErrorCode.NO_PERMISSIONS: "A management token needs at least one permission.",
    UserErrorCode.OUT_OF_RANGE: "A number outside the range the message gives.",
    UserErrorCode.PASSWORD_FROM_EMAIL: "The password is made from the email address.",
    UserErrorCode.PASSWORD_TOO_LONG: "The password is longer than allowed.",
    UserErrorCode.PASSWORD_TOO_SHORT: "The password is shorter than allowed.",
    UserErrorCode.PASSWORD_TOO_WEAK: "The password is too easy to guess.",
    UserErrorCode.REVOKED: "The credential is revoked, so it cannot be changed.",
    UserErrorCode.ROLE_NOT_ALLOWED: "The caller's role cannot give this role.",
    UserErrorCode.TOO_LONG: "The text is longer than allowed.",
    UserErrorCode.TOO_MANY: "The workspace has as many of these as it may.",
    UserErrorCode.TOO_MANY_ATTEMPTS: "Too many failed attempts: wait for the time the message gives.",
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
