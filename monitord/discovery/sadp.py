"""Hikvision SADP (Search Active Devices Protocol): bare XML over UDP 37020.

The wire format, as Hikvision's SADP tool sends it and devices answer (documented publicly,
e.g. https://www.mhzhuji.com/zhuji_info_958/):

    <?xml version="1.0" encoding="utf-8"?><Probe><Uuid>…</Uuid><Types>inquiry</Types></Probe>

to 239.255.255.250:37020; every Hikvision device (camera, NVR) answers with a flat
`<ProbeMatch>` echoing the Uuid and listing DeviceDescription (model), DeviceSN, MAC
(aa-bb-…), IPv4Address, HttpPort, SoftwareVersion and Activated. It also answers before it
has been activated (no admin password set yet), which ONVIF never does: such a device is
proposed with the note "not activated". Replies get the WS-Discovery rules: a size cap, the
hardened parser (no DTD or entities, depth cap), a cap on fields and text, our own Uuid, and
a source inside the ranges.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Final
from xml.sax.saxutils import escape

from monitord.checks.onvif import xml as onvif_xml
from monitord.checks.onvif.errors import OnvifError
from monitord.discovery import udp
from monitord.discovery.onvif import normal_mac
from monitord.discovery.scope import Pacer, Scope
from monitord.discovery.udp import ReplyRefused

GROUP: Final = "239.255.255.250"
PORT: Final = 37020
MAX_REPLY: Final = 16 * 1024  # a ProbeMatch is 1.5-2.5 kB
MAX_FIELDS: Final = 128  # a ProbeMatch has ~40 flat elements
MAX_TEXT: Final = 256


def probe_message(probe_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Probe><Uuid>{escape(probe_id)}</Uuid><Types>inquiry</Types></Probe>"
    ).encode()


@dataclass(frozen=True, slots=True)
class SadpDevice:
    """One ProbeMatch, seen at `source` (the address it is reached at)."""

    source: str
    mac: str
    serial: str
    model: str
    firmware: str
    reported_address: str  # IPv4Address as the device states it
    http_port: int
    activated: bool | None  # None when the device does not say

    @property
    def vendor(self) -> str:
        return "Hikvision"


def parse_match(data: bytes, source: str, expected: set[str]) -> SadpDevice:
    if len(data) > MAX_REPLY:
        raise ReplyRefused(f"a reply of {len(data)} bytes is larger than {MAX_REPLY}; refused")
    try:
        root = onvif_xml.parse_document(data)
    except OnvifError as exc:
        raise ReplyRefused(exc.detail) from None
    if root.tag != "ProbeMatch":
        raise ReplyRefused("the reply is XML but not a SADP ProbeMatch")
    if len(root) > MAX_FIELDS:
        raise ReplyRefused(f"a ProbeMatch with {len(root)} fields (at most {MAX_FIELDS})")
    fields: dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str) and child.tag not in fields:
            fields[child.tag] = "".join(child.itertext()).strip()[:MAX_TEXT]
    if fields.get("Uuid", "").upper() not in expected:
        raise ReplyRefused("the reply answers none of our probes (Uuid); ignored")
    mac = normal_mac(fields.get("MAC", ""))
    if not mac:
        raise ReplyRefused("a ProbeMatch without a MAC address; refused")
    port = fields.get("HttpPort", "")
    activated = {"true": True, "false": False}.get(fields.get("Activated", "").lower())
    return SadpDevice(
        source, mac, fields.get("DeviceSN", ""), fields.get("DeviceDescription", ""),
        fields.get("SoftwareVersion", ""), fields.get("IPv4Address", ""),
        int(port) if port.isdigit() and 0 < int(port) < 65536 else 80, activated,
    )  # fmt: skip


@dataclass(slots=True)
class SadpResult(udp.Tally):
    devices: dict[str, SadpDevice] = field(default_factory=dict)  # by MAC


class SadpProber:
    """One run: `await run()` multicasts and unicasts the inquiry, then listens."""

    def __init__(
        self, scope: Scope, pacer: Pacer, *, port: int = PORT, listen: float = 2.0,
        multicast: bool = True, unicast: bool = True, bind: str = "0.0.0.0",
    ) -> None:  # fmt: skip
        self.scope, self.pacer, self.port, self.listen = scope, pacer, port, listen
        self.multicast, self.unicast, self.bind = multicast, unicast, bind
        self.result = SadpResult()
        self._ids: set[str] = set()

    def _messages(self) -> list[bytes]:
        probe_id = str(uuid.uuid4()).upper()  # SADP tools send upper case; devices echo it
        self._ids.add(probe_id)
        return [probe_message(probe_id)]

    def _receiver(self) -> udp.Receiver[SadpDevice]:
        def keep(device: SadpDevice) -> None:
            self.result.devices.setdefault(device.mac, device)

        return udp.Receiver(self.scope, self.result,
                            lambda data, source: [parse_match(data, source, self._ids)], keep)  # fmt: skip

    async def run(self) -> SadpResult:
        sent = await udp.probe(
            self.scope, self.pacer, self.port, GROUP, self._messages,
            self._receiver, listen=self.listen,
            multicast=self.multicast, unicast=self.unicast, bind=self.bind,
        )  # fmt: skip
        self.result.sent = sent.count
        return self.result
