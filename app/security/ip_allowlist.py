"""IP allowlists of credentials: parsed, normalised and stored here; judged by the credential state model.

An allowlist is a list of IPv4 and IPv6 addresses and CIDR ranges. It is stored as a JSON list of
normalised entries (NULL: any address): compressed IPv6, a range of one address written as that
address (`10.0.0.1/32` → `10.0.0.1`), an IPv4-mapped IPv6 address or range written as IPv4 (client
addresses are compared as IPv4 too), duplicates dropped, first appearance kept.

A range with host bits set (`10.0.0.5/24`) and an address with a zone index are refused, not guessed
at: docs/decisions/0010-ip-allowlists.md says why.
"""

import ipaddress
from dataclasses import dataclass

import orjson

MAX_ENTRIES = 100
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class InvalidEntry(ValueError):
    """An entry that is not an address or a range; the message names it and is safe to show."""

    def __init__(self, entry: str, message: str, index: int = 0) -> None:
        super().__init__(message)
        self.entry = entry
        self.index = index  # its place in the list given


class TooManyEntries(ValueError):
    def __init__(self, count: int) -> None:
        super().__init__(f"An allowlist holds at most {MAX_ENTRIES} addresses or ranges (got {count}).")
        self.count = count


def _unmapped(network: Network) -> Network:
    if (
        isinstance(network, ipaddress.IPv6Network)
        and network.prefixlen >= _MAPPED.prefixlen
        and network.subnet_of(_MAPPED)
    ):
        mapped = network.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network((mapped, network.prefixlen - _MAPPED.prefixlen))
    return network


def _parse(entry: str) -> Network:
    text = entry.strip()
    if not text:
        raise InvalidEntry(entry, "An allowlist entry is empty: give an IP address or a CIDR range.")
    if "%" in text:  # a zone index names an interface of this machine: no client address carries one
        raise InvalidEntry(entry, f"{text[:60]!r} has a zone index (%…): write the address without it.")
    try:
        return _unmapped(ipaddress.ip_network(text, strict=True))
    except ValueError as exc:
        if "has host bits set" in str(exc):
            meant = ipaddress.ip_network(text, strict=False)
            raise InvalidEntry(
                entry, f"{text!r} has host bits set: write the range as {meant} or the one address without /."
            ) from None
        raise InvalidEntry(entry, f"{text[:60]!r} is not an IP address or a CIDR range.") from None


def _written(network: Network) -> str:
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)


def normalise(entries: list[str]) -> list[str]:
    """The entries as stored: checked, normalised, without duplicates; raises InvalidEntry, TooManyEntries."""
    if len(entries) > MAX_ENTRIES:
        raise TooManyEntries(len(entries))
    written: dict[str, None] = {}
    for index, entry in enumerate(entries):
        try:
            written.setdefault(_written(_parse(entry)))
        except InvalidEntry as exc:
            exc.index = index
            raise
    return list(written)


def encode(entries: list[str]) -> str | None:
    """Normalised entries as the column stores them: NULL (any address) for none."""
    return orjson.dumps(entries).decode() if entries else None


def entries_of(stored: str | None) -> list[str]:
    """The stored entries ([] for any address)."""
    return list(orjson.loads(stored)) if stored else []


@dataclass(frozen=True, slots=True)
class Allowlist:
    """The ranges a credential may be used from; built once per lookup and kept in the credential cache."""

    networks: tuple[Network, ...]

    @classmethod
    def from_stored(cls, stored: str | None) -> "Allowlist | None":
        """None when the column allows any address."""
        if not stored:
            return None
        return cls(tuple(ipaddress.ip_network(entry) for entry in orjson.loads(stored)))

    def allows(self, client_ip: str | None) -> bool:
        """An unknown client address is allowed by no allowlist."""
        if client_ip is None:
            return False
        try:
            address: Address = ipaddress.ip_address(client_ip)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)
