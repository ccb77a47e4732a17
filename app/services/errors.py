"""Failures a service reports to its caller; the GraphQL layer turns them into userErrors."""

from dataclasses import dataclass


@dataclass
class UserInputError(Exception):
    """Input a person can fix. `field` is the path inside the mutation's input."""

    message: str
    code: str
    field: tuple[str, ...] | None = None

    def __str__(self) -> str:
        return self.message


class NotFound(UserInputError):
    """Unknown, deleted, or in another workspace: all three look the same to the caller."""

    def __init__(self, what: str, field: tuple[str, ...] = ("id",)) -> None:
        super().__init__(f"{what} not found.", "NOT_FOUND", field)
