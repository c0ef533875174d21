"""A small asyncio WS-Discovery prober (ONVIF Core 7; WS-Discovery 2005/04, SOAP-over-UDP).

`python-ws-discovery` is barely maintained and breaks on non-multicast interfaces
(../shared/research/discovery.md), so this is our own: a Probe for NetworkVideoTransmitter
and for tds:Device, multicast to 239.255.255.250:3702 out of each multicast-capable
interface inside the ranges, and unicast to port 3702 of every address in the ranges
(multicast does not cross routers). Every reply is parsed by the hardened ONVIF parser
(monitord.checks.onvif.xml: no DTD, no entities, depth cap) after a size cap, must answer
one of our probes (RelatesTo), and must come from inside the ranges.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from monitord.checks.onvif import xml as onvif_xml
from monitord.checks.onvif.errors import OnvifError
from monitord.discovery import udp
from monitord.discovery.scope import Pacer, Scope
from monitord.discovery.udp import ReplyRefused

GROUP: Final = "239.255.255.250"
PORT: Final = 3702
MAX_REPLY: Final = 32 * 1024  # a ProbeMatches is 1-3 kB; a UDP datagram may be 64 kB
MAX_MATCHES: Final = 8  # per datagram: a camera answers with one
MAX_LIST: Final = 32  # scopes, types or XAddrs of one match
MAX_TEXT: Final = 512
_ENDPOINT: Final = "./*[local-name()='EndpointReference']/*[local-name()='Address']"
TYPES: Final = (
    ("dn", "http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter"),
    ("tds", "http://www.onvif.org/ver10/device/wsdl", "Device"),
)
_PROBE: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:{prefix}="{ns}">'
    "<s:Header>"
    '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe'
    "</a:Action><a:MessageID>{mid}</a:MessageID>"
    "<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
    "</a:Address></a:ReplyTo>"
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>'
    "</s:Header><s:Body><d:Probe><d:Types>{prefix}:{kind}</d:Types></d:Probe></s:Body>"
    "</s:Envelope>"
)


def probe_message(message_id: str, prefix: str, ns: str, kind: str) -> bytes:
    return _PROBE.format(mid=escape(message_id), prefix=prefix, ns=ns, kind=kind).encode()


@dataclass(frozen=True, slots=True)
class Match:
    """One ProbeMatch: a device by its endpoint reference, seen at `source`."""

    source: str
    endpoint: str
    types: tuple[str, ...]
    scopes: tuple[str, ...]
    xaddrs: tuple[str, ...]

    def scope(self, kind: str) -> str | None:
        """The value of an ONVIF scope (name, hardware, mac, location), percent-decoded."""
        prefix = f"onvif://www.onvif.org/{kind}/"
        for s in self.scopes:
            if s.lower().startswith(prefix):
                return unquote(s[len(prefix) :])[:MAX_TEXT] or None
        return None

    def device_service(self) -> tuple[int, str]:
        """(port, path) of the device service at `source`: only an XAddr naming the
        source itself is believed, so nothing (credentials least of all) goes elsewhere."""
        for xaddr in self.xaddrs:
            try:
                parts = urlsplit(xaddr)
                if parts.scheme == "http" and parts.hostname == self.source:
                    return parts.port or 80, parts.path or "/onvif/device_service"
            except ValueError:
                continue
        return 80, "/onvif/device_service"


def parse_matches(data: bytes, source: str, expected: Iterable[str]) -> list[Match]:
    """The ProbeMatches in `data`, which must answer one of `expected` message ids."""
    if len(data) > MAX_REPLY:
        raise ReplyRefused(f"a reply of {len(data)} bytes is larger than {MAX_REPLY}; refused")
    try:
        envelope = onvif_xml.parse(data)
    except OnvifError as exc:
        raise ReplyRefused(exc.detail) from None
    relates = _texts(envelope, "./*[local-name()='Header']/*[local-name()='RelatesTo']")
    if not relates or relates[0] not in set(expected):
        raise ReplyRefused("the reply answers none of our probes (RelatesTo); ignored")
    found = envelope.xpath(
        "./*[local-name()='Body']/*[local-name()='ProbeMatches']/*[local-name()='ProbeMatch']"
    )
    if len(found) > MAX_MATCHES:
        raise ReplyRefused(f"a reply with {len(found)} matches (at most {MAX_MATCHES}); refused")
    out = []
    for node in found:
        endpoint = _texts(node, _ENDPOINT)
        if not endpoint:
            raise ReplyRefused("a ProbeMatch without an endpoint reference; refused")
        types, scopes, xaddrs = _list(node, "Types"), _list(node, "Scopes"), _list(node, "XAddrs")
        out.append(Match(source, endpoint[0], types, scopes, xaddrs))
    return out


def _texts(node: etree._Element, path: str) -> list[str]:
    return [("".join(n.itertext())).strip()[:MAX_TEXT] for n in node.xpath(path)]


def _list(node: etree._Element, name: str) -> tuple[str, ...]:
    words = " ".join(_texts(node, f"./*[local-name()='{name}']")).split()
    if len(words) > MAX_LIST:
        raise ReplyRefused(f"a ProbeMatch lists {len(words)} {name} (at most {MAX_LIST}); refused")
    return tuple(w[:MAX_TEXT] for w in words)


@dataclass(slots=True)
class WsdResult(udp.Tally):
    matches: dict[str, Match] = field(default_factory=dict)  # by endpoint reference
    interfaces: list[str] = field(default_factory=list)


class WsdProber:
    """One discovery run: `await run()` sends the probes, then listens for `listen` s."""

    def __init__(
        self, scope: Scope, pacer: Pacer, *, port: int = PORT, listen: float = 2.0,
        multicast: bool = True, unicast: bool = True, bind: str = "0.0.0.0",
    ) -> None:  # fmt: skip
        self.scope, self.pacer, self.port, self.listen = scope, pacer, port, listen
        self.multicast, self.unicast, self.bind = multicast, unicast, bind
        self.result = WsdResult()
        self._ids: set[str] = set()

    def _messages(self) -> list[bytes]:
        out = []
        for prefix, ns, kind in TYPES:
            mid = f"urn:uuid:{uuid.uuid4()}"
            self._ids.add(mid)
            out.append(probe_message(mid, prefix, ns, kind))
        return out

    def _receiver(self) -> udp.Receiver[Match]:
        def keep(m: Match) -> None:
            self.result.matches.setdefault(m.endpoint, m)

        return udp.Receiver(self.scope, self.result,
                            lambda data, source: parse_matches(data, source, self._ids), keep)  # fmt: skip

    async def run(self) -> WsdResult:
        sent = await udp.probe(
            self.scope, self.pacer, self.port, GROUP, self._messages,
            self._receiver, listen=self.listen,
            multicast=self.multicast, unicast=self.unicast, bind=self.bind,
        )  # fmt: skip
        self.result.sent, self.result.interfaces = sent.count, sent.interfaces
        return self.result
