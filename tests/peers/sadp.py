"""A Hikvision SADP responder for tests (no real peer exists outside a Hikvision device):
it answers `<Probe><Uuid/><Types>inquiry</Types></Probe>` on UDP with a flat `<ProbeMatch>`
in the wire format the devices send (field names and order as captured from a DS-7804).

    with SadpResponder("127.0.0.5", port, mac="c0:56:e3:..", activated=False) as dev:
        dev.probes          # inquiries received
    SadpResponder(..., raw=b"...{uuid}...")   # answer these bytes instead
"""

from __future__ import annotations

import socket
import threading
import xml.etree.ElementTree as ET
from types import TracebackType
from typing import Self
from xml.sax.saxutils import escape


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


class SadpResponder:
    def __init__(
        self, host: str, port: int, *, mac: str, serial: str = "DS-2CD2347G2-L20231101AACH",
        model: str = "DS-2CD2347G2-LU", activated: bool = True, raw: bytes | None = None,
    ) -> None:  # fmt: skip
        self.host, self.port, self.mac, self.serial, self.model = host, port, mac, serial, model
        self.activated, self.raw = activated, raw
        self.probes = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.settimeout(0.1)
        self._sock, self._running = sock, True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()

    def _serve(self) -> None:
        assert self._sock is not None
        while self._running:
            try:
                data, addr = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.answer(data)
            if reply is not None:
                self._sock.sendto(reply, addr)

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
