"""Where a webhook may go: https URLs (http only when allowed) to public addresses, unless listed.

The check runs at delivery time on the addresses a name resolves to, and the request is then sent
to the address that passed (with the name as Host and TLS SNI), so a name that resolves to a public
address for the check and to 127.0.0.1 for the connection (DNS rebinding) cannot get through.
"""

import asyncio
import ipaddress
import logging
import socket
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

log = logging.getLogger("keyward.webhooks")

URL_MAX_LENGTH = 2048
# What DNS carries (RFC 1035): labels of 1 to 63 octets, a name of at most 253 (without its final dot).
DNS_LABEL_MAX = 63
DNS_NAME_MAX = 253
# Spaces, controls, invisible formatting (bidi overrides such as U+202E, zero-width spaces), lone surrogates and line
# separators, in any script: the URL shown to people would not be the one requests go to.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
# Names that are never looked up: RFC 6761 reserves them.
LOOPBACK_NAMES = ("localhost",)
NEVER_RESOLVED_SUFFIXES = (".invalid",)


class InvalidUrl(ValueError):
    """A URL that can never be a webhook destination; the message is safe to show."""


class DestinationRefused(Exception):
    """The destination is not allowed (or does not resolve); the message is safe to show."""


@dataclass(frozen=True)
class AllowList:
    """`KEYWARD_WEBHOOK_ALLOWED_HOSTS`: host names, addresses and CIDR ranges let through the address check."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks if network.version == address.version)


def parse_allow_list(text: str) -> AllowList:
    """Comma-separated entries; raises ValueError naming the first entry that is none of the three."""
    hosts: set[str] = set()
    networks: list[Network] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        if not name or any(ch in name for ch in "/:@ ") or not all(part for part in name.split(".")):
            raise ValueError(f"{entry!r} is not a host name, an address or a CIDR range")
        hosts.add(name)
    return AllowList(frozenset(hosts), tuple(networks))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """IPv4 addresses carried inside IPv6 ones (mapped, 6to4, Teredo, NAT64) reach that IPv4 host."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why a delivery may not go to `address` (loopback, private, ...), or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            reason = refusal(inner)
            return f"{reason} (inside {address})" if reason else None
    kind = refused_kind(address)
    return f"{address} is {kind}" if kind else None


def refused_kind(address: IPAddress) -> str | None:
    """ "a private address", "a loopback address", ... for an address deliveries may not go to; None for a public one.

    What a workspace is told about an address a name resolved to: never the address itself, which would let
    anyone who may save a webhook URL read the private addresses of the operator's network from DNS.
    """
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return refused_kind(inner)
    for kind, flag in (
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a private", address.is_private),
        ("a multicast", address.is_multicast),
        ("an unspecified", address.is_unspecified),
        ("a reserved", address.is_reserved),
    ):
        if flag:
            return f"{kind} address"
    if not address.is_global:
        return "an address that is not public"
    return None


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # lower-case name or address, without IPv6 brackets
    port: int


def check_url(url: str, *, allow_http: bool) -> Destination:
    """Shape rules, checked when an endpoint is saved and again before each delivery."""
    if len(url) > URL_MAX_LENGTH:
        raise InvalidUrl(f"The URL must be at most {URL_MAX_LENGTH} characters.")
    refused = next((ch for ch in url if unicodedata.category(ch) in REFUSED_CATEGORIES), None)
    if refused is not None:
        raise InvalidUrl(
            f"The URL cannot contain spaces, control or invisible formatting characters (it has U+{ord(refused):04X})."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl("The URL is not valid.") from exc
    if port == 0:  # urlsplit takes it; the check below would judge port 443 and the delivery go to port 0
        raise InvalidUrl("The URL's port must be a number from 1 to 65535.")
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise InvalidUrl("The URL must start with https:// (http:// only when KEYWARD_WEBHOOK_ALLOW_HTTP is set).")
    if not parts.hostname:
        raise InvalidUrl("The URL must name a host.")
    if parts.username is not None or parts.password is not None:
        raise InvalidUrl("The URL cannot carry a user name or password: the signature authenticates deliveries.")
    if parts.fragment:
        raise InvalidUrl("The URL cannot have a #fragment.")
    host = parts.hostname.lower().rstrip(".")
    if literal_address(host) is None:
        _check_dns_name(url)
    return Destination(scheme, host, port or (443 if scheme == "https" else 80))


def _check_dns_name(url: str) -> None:
    """A host name the delivery can look up and send: the name as httpx encodes it (IDNA 2008), in DNS's lengths.

    Either refusal came too late otherwise: the resolver's IDNA codec raised UnicodeError for an empty or 64-octet
    label, and httpx raised InvalidURL for a name IDNA 2008 forbids, each out of the attempt instead of a failure.
    """
    try:
        name = httpx.URL(url).raw_host.decode("ascii").rstrip(".")
    except httpx.InvalidURL as exc:
        raise InvalidUrl("The URL's host is not a valid domain name.") from exc
    if len(name) > DNS_NAME_MAX or not all(1 <= len(label) <= DNS_LABEL_MAX for label in name.split(".")):
        raise InvalidUrl(
            f"The URL's host must be a domain name of at most {DNS_NAME_MAX} characters, "
            f"in labels of 1 to {DNS_LABEL_MAX} between dots."
        )


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for `host`, in its order of preference."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


async def permitted_addresses(destination: Destination, allow: AllowList, resolver: Resolver) -> list[IPAddress]:
    """The addresses a delivery may connect to, resolved once; DestinationRefused when there are none."""
    host = destination.host
    address = literal_address(host)
    if address is not None:
        addresses = [address]
    elif host in LOOPBACK_NAMES or host.endswith(".localhost"):
        addresses = [ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1")]
    elif host.endswith(NEVER_RESOLVED_SUFFIXES):
        raise DestinationRefused(f"{host} does not resolve (a reserved name).")
    else:
        try:
            addresses = await resolver(host, destination.port)
        except OSError as exc:
            raise DestinationRefused(f"{host} could not be resolved.") from exc
        if not addresses:
            raise DestinationRefused(f"{host} could not be resolved.")
    if allow.allows_host(host):
        return addresses
    permitted = [a for a in addresses if refusal(a) is None or allow.allows_address(a)]
    if not permitted:
        if address is None:  # a name: the operator's log has the addresses, the workspace only their kind
            log.info("webhook destination %s refused: it resolves to %s", host, ", ".join(map(str, addresses)))
            reason = f"{host} resolves to {refused_kind(addresses[0])}"
        else:
            reason = str(refusal(address))
        raise DestinationRefused(f"Refused: {reason}; list it in KEYWARD_WEBHOOK_ALLOWED_HOSTS to allow it.")
    return permitted
