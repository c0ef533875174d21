"""A Hikvision SADP responder for tests (no real peer exists outside a Hikvision device):
it answers `<Probe><Uuid/><Types>inquiry</Types></Probe>` on UDP with a flat `<ProbeMatch>`
in the wire format the devices send (field names and order as captured from a DS-7804).

    with SadpResponder("127.0.0.5", port, mac="c0:56:e3:..", activated=False) as dev:
        dev.probes          # inquiries received
    SadpResponder(..., raw=b"...{uuid}...")   # answer these bytes instead
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from tests.peers.udp import UdpResponder


def probe_match(
    probe_id: str, *, mac: str, address: str, serial: str, model: str,
    firmware: str = "V5.7.3build 220112", http_port: int = 80, activated: bool = True,
) -> bytes:  # fmt: skip
    fields = [
        ("Uuid", probe_id), ("Types", "inquiry"), ("Encrypt", "true"),
        ("Salt", "9bb2be4e49c225d4e57e659ecb97214a1ba295f2f7bec69bba7df83c55cc5e18"),
        ("DeviceType", "138050"), ("DeviceDescription", model), ("DeviceSN", serial),
        ("CommandPort", "8000"), ("HttpPort", str(http_port)), ("MAC", mac.replace(":", "-")),
        ("IPv4Address", address), ("IPv4SubnetMask", "255.255.255.0"),
        ("IPv4Gateway", address.rsplit(".", 1)[0] + ".254"), ("IPv6Address", "::"),
        ("IPv6Gateway", "::"), ("IPv6MaskLen", "64"), ("DHCP", "false"),
        ("AnalogChannelNum", "0"), ("DigitalChannelNum", "1"), ("SoftwareVersion", firmware),
        ("DSPVersion", "V7.3, build 220112"), ("BootTime", "2026-11-30 08:02:11"),
        ("OEMInfo", "N/A"), ("Activated", "true" if activated else "false"),
        ("PasswordResetAbility", "true"), ("SupportGUID", "true"),
    ]  # fmt: skip
    body = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields)
    return f'<?xml version="1.0" encoding="UTF-8" ?><ProbeMatch>{body}</ProbeMatch>'.encode()


class SadpResponder(UdpResponder):
    def __init__(
        self, host: str, port: int, *, mac: str, serial: str = "DS-2CD2347G2-L20231101AACH",
        model: str = "DS-2CD2347G2-LU", activated: bool = True, raw: bytes | None = None,
    ) -> None:  # fmt: skip
        super().__init__(host, port)
        self.mac, self.serial, self.model = mac, serial, model
        self.activated, self.raw = activated, raw

    def answer(self, data: bytes) -> bytes | None:
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            return None
        probe_id = (root.findtext("Uuid") or "").strip()
        if root.tag != "Probe" or not probe_id or root.findtext("Types") != "inquiry":
            return None
        self.probes += 1
        if self.raw is not None:
            return self.raw.replace(b"{uuid}", probe_id.encode())
        return probe_match(
            probe_id, mac=self.mac, address=self.host, serial=self.serial, model=self.model,
            activated=self.activated,
        )  # fmt: skip
