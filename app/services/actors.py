"""How a principal is written down as the actor of a record (creator, audit event)."""

import enum
from dataclasses import dataclass

from app.security.principal import Principal, PrincipalKind


class ActorKind(enum.StrEnum):
    """Who did something, or who is calling."""

    USER = "USER"
    MANAGEMENT_TOKEN = "MANAGEMENT_TOKEN"  # noqa: S105 (a kind, not a secret)
    SYSTEM = "SYSTEM"


ACTOR_KIND_DESCRIPTIONS: dict[ActorKind, str] = {
    ActorKind.USER: "A signed-in person; the label is their email.",
    ActorKind.MANAGEMENT_TOKEN: "A management token; the label is its name and key prefix.",
    ActorKind.SYSTEM: "Keyward itself (the stale sweep, a leak report's revocation, webhook upkeep).",
}


@dataclass(frozen=True)
class ActorRecord:
    kind: ActorKind
    id: str | None
    label: str


def actor_of(principal: Principal) -> ActorRecord:
    if principal.kind is PrincipalKind.USER:
        return ActorRecord(ActorKind.USER, f"User:{principal.user_id}", principal.email or "")
    if principal.kind is PrincipalKind.MANAGEMENT_TOKEN:
        ref = f"ManagementToken:{principal.token_id}"
        return ActorRecord(ActorKind.MANAGEMENT_TOKEN, ref, principal.token_label or "")
    return ActorRecord(ActorKind.SYSTEM, None, "Keyward")
