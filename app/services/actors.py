"""How a principal is written down as the actor of a record (creator, audit event)."""

from dataclasses import dataclass

from app.security.principal import Principal, PrincipalKind


@dataclass(frozen=True)
class ActorRecord:
    kind: str
    id: str | None
    label: str


def actor_of(principal: Principal) -> ActorRecord:
    if principal.kind is PrincipalKind.USER:
        return ActorRecord("USER", f"User:{principal.user_id}", principal.email or "")
    if principal.kind is PrincipalKind.MANAGEMENT_TOKEN:
        return ActorRecord("MANAGEMENT_TOKEN", f"ManagementToken:{principal.token_id}", principal.token_label or "")
    return ActorRecord("SYSTEM", None, "Keyward")
