"""Where monitord may connect on its own account: the one outbound address policy.

Webhooks, SMS gateways and the addresses an ONVIF device hands back (service addresses,
subscriptions, stream URIs) all ask `refusal()` before connecting. Refused: this host
itself (loopback and every address bound here), link-local (169.254.169.254 is the cloud
metadata service), multicast, "this network" (0.0.0.0/8), IETF protocol assignments
(192.0.0.0/24), broadcast, the metadata services that are not link-local, and IPv6 forms
that carry an IPv4 address (mapped, NAT64, 6to4, Teredo) when that IPv4 address is refused;
the deprecated IPv4-compatible ::/96 is refused outright. Private ranges are not refused:
gateways, relays and cameras live there. An operator's allow list overrides the policy.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Final
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Metadata services outside link-local: Alibaba Cloud's, AWS's over IPv6.
METADATA: Final = frozenset(
    {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}
)
_V4_REFUSED: Final = (
    (ipaddress.ip_network("0.0.0.0/8"), "'this network' address (0.0.0.0/8)"),
    (ipaddress.ip_network("192.0.0.0/24"), "IETF protocol address (192.0.0.0/24)"),
    (ipaddress.ip_network("255.255.255.255/32"), "broadcast address"),
)
_V4_COMPATIBLE: Final = ipaddress.ip_network("::/96")
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
_6TO4: Final = ipaddress.ip_network("2002::/16")


def refusal(address: Address) -> str | None:
    """Why a connection to `address` is refused (words for an error), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _V4_COMPATIBLE and not address.is_unspecified and not address.is_loopback:
            return "IPv4-compatible IPv6 address (::/96, deprecated)"
        embedded = _embedded_v4(address)
        if embedded is not None:
            inner = refusal(embedded)
            if inner is not None:
                return f"{inner}, inside an IPv6 address"
    found = _kind(address)
    if found is not None:
        return found
    return "an address of this host" if is_own(address) else None


def refused(address: Address, allow: Sequence[Network] = ()) -> str | None:
    """`refusal()`, unless the operator allowed the address."""
    if any(address.version == n.version and address in n for n in allow):
        return None
    return refusal(address)


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """An allow list (addresses or networks); raises ValueError naming a bad entry."""
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry[:60]!r} is not an IP address or network") from None
    return tuple(out)


def url_problem(url: str, allow: Sequence[Network] = ()) -> str | None:
    """What is wrong with a configured http(s) URL, quoting no part of it (it may hold a
    token); a literal IP host is checked against the policy, a name only when resolved."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises on a bad port
        host = parts.hostname
    except ValueError:
        return "the URL is not valid (not repeated here: it may hold a token)"
    if parts.scheme not in ("http", "https") or not host:
        return "the URL must be http(s)://host/…"
    if any(c.isspace() or ord(c) < 32 for c in url.strip()):
        return "the URL holds spaces or control characters"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    why = refused(address, allow)
    return (
        None
        if why is None
        else f"the URL's host is among the refused addresses ({why}); see allow_addresses"
    )


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _6TO4:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _kind(address: Address) -> str | None:
    if address.is_loopback:
        return "loopback address"
    if address.is_link_local:
        return "link-local address (cloud metadata lives there)"
    if address.is_multicast:
        return "multicast address"
    if address.is_unspecified:
        return "unspecified address"
    if address in METADATA:
        return "cloud metadata address"
    if isinstance(address, ipaddress.IPv4Address):
        for network, words in _V4_REFUSED:
            if address in network:
                return words
    return None


def is_own(address: Address) -> bool:
    """Whether the address is bound on this host: only a local address can be bound to
    (EADDRNOTAVAIL otherwise). Asked at each check, so an address added later counts.
    With net.ipv4.ip_nonlocal_bind=1 every IPv4 address looks local: list the
    gateways in allow_addresses there."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.bind((str(address), 0))
    except OSError as exc:
        # EADDRINUSE, EACCES and the like: the address exists here.
        return exc.errno not in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT)
    return True


def follow_refusal(host: str, configured: str, follow: Sequence[Network]) -> str | None:
    """Why monitord must not follow a device to `host`, an address the device returned
    (a service, a subscription, a stream), or None. Its configured address is followed;
    another only inside its `follow_addresses` (NVRs fronting cameras) and past the
    policy above, unless that list names exactly this address. Names are never followed:
    what they resolve to is the device's (or its DNS server's) choice."""
    try:
        address = ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return "a host name, not an address"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address == ipaddress.ip_address(configured):
        return None
    listed = [n for n in follow if address.version == n.version and address in n]
    if not listed:
        return "neither the device's configured address nor in its follow_addresses"
    if any(n.num_addresses == 1 for n in listed):
        return None
    return refusal(address)
