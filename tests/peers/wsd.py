"""A WS-Discovery responder for tests: a camera answering Probes with SOAP-over-UDP
ProbeMatches, in the wire format ONVIF devices send (WS-Discovery 2005/04, SOAP 1.2).

    with WsdResponder("127.0.0.5", endpoint="urn:uuid:...", xaddr=peer.url) as cam:
        cam.probes        # Probe datagrams received
    WsdResponder(..., discoverable=False)   # ONVIF NonDiscoverable: never answers
    WsdResponder(..., raw=b"...{mid}...")   # answer these bytes ({mid}: the probe's id)

Run as `python -m tests.peers.wsd HOST PORT JOIN_ADDRESS XADDR` in a namespace to answer
multicast Probes on the interface holding JOIN_ADDRESS (prints "ready" once listening).
"""

from __future__ import annotations

import socket
import sys
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from tests.peers.udp import UdpResponder

GROUP, PORT = "239.255.255.250", 3702
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "d": "http://schemas.xmlsoap.org/ws/2005/04/discovery",
}


def probe_matches(
    relates_to: str, endpoint: str, xaddrs: str, scopes: str,
    types: str = "dn:NetworkVideoTransmitter tds:Device",
) -> bytes:  # fmt: skip
    """A ProbeMatches as a Hikvision/Dahua camera sends it (prefixes as they use them)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:wsadis="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"'
        ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl"'
        ' xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        "<env:Header>"
        f"<wsadis:MessageID>urn:uuid:{uuid.uuid4()}</wsadis:MessageID>"
        f"<wsadis:RelatesTo>{escape(relates_to)}</wsadis:RelatesTo>"
        "<wsadis:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsadis:To>"
        "<wsadis:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches"
        "</wsadis:Action></env:Header><env:Body><d:ProbeMatches><d:ProbeMatch>"
        "<wsadis:EndpointReference>"
        f"<wsadis:Address>{escape(endpoint)}</wsadis:Address></wsadis:EndpointReference>"
        f"<d:Types>{types}</d:Types><d:Scopes>{escape(scopes)}</d:Scopes>"
        f"<d:XAddrs>{escape(xaddrs)}</d:XAddrs><d:MetadataVersion>10</d:MetadataVersion>"
        "</d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>"
    ).encode()


class WsdResponder(UdpResponder):
    def __init__(
        self, host: str, port: int = PORT, *, endpoint: str | None = None,
        xaddr: str = "", name: str = "IPC", hardware: str = "DS-2CD2T47G2",
        discoverable: bool = True, raw: bytes | None = None, join: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(host, port)
        self.join = join
        self.endpoint = endpoint or f"urn:uuid:{uuid.uuid4()}"
        self.xaddr, self.discoverable, self.raw = xaddr, discoverable, raw
        self.scopes = (
            "onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming "
            f"onvif://www.onvif.org/name/{name} onvif://www.onvif.org/hardware/{hardware} "
            "onvif://www.onvif.org/location/city/hangzhou"
        )

    def prepare(self, sock: socket.socket) -> None:
        if self.join:
            membership = socket.inet_aton(GROUP) + socket.inet_aton(self.join)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)

    def answer(self, data: bytes) -> bytes | None:
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            return None
        mid = root.findtext("s:Header/a:MessageID", "", NS).strip()
        types = root.findtext("s:Body/d:Probe/d:Types", "", NS).split()
        if not mid:
            return None
        self.probes += 1
        if not self.discoverable:
            return None
        if self.raw is not None:
            return self.raw.replace(b"{mid}", mid.encode())
        kinds = {t.rsplit(":", 1)[-1] for t in types}
        if kinds and not kinds & {"NetworkVideoTransmitter", "Device"}:
            return None
        return probe_matches(mid, self.endpoint, self.xaddr, self.scopes)


if __name__ == "__main__":
    host, port, join, xaddr = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with WsdResponder(host, port, join=join, xaddr=xaddr, endpoint="urn:uuid:netns-cam-1"):
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.read()  # until the test closes our stdin
