"""Simulated ONVIF cameras for bench/onvif_poll.py, run as a separate process so that its
CPU is not counted as ours: one asyncio server answering canned SOAP 1.2 documents (what
ipycam answers, minus its thread-per-request cost) on PORTS ports of 127.0.0.1, and an RTSP
responder (OPTIONS, DESCRIBE with an SDP) on one more port. Prints the first port, then
serves until killed.

    python bench/onvif_sim.py PORTS

In a lab (bench/fleet.py), `--lab` instead serves every address of the host at once: SOAP
on port 80 and RTSP on 554 of 0.0.0.0, each answer naming the address it was asked on (the
service addresses and the stream URI of a camera point back at the camera itself).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

ENV = "http://www.w3.org/2003/05/soap-envelope"
NS = 'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"'


def envelope(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{ENV}" {NS}>'
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()  # fmt: skip


def clock() -> bytes:
    t = time.gmtime()
    return envelope(
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP"
        "</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime>"
        f"<tt:Time><tt:Hour>{t.tm_hour}</tt:Hour><tt:Minute>{t.tm_min}</tt:Minute>"
        f"<tt:Second>{t.tm_sec}</tt:Second></tt:Time><tt:Date><tt:Year>{t.tm_year}</tt:Year>"
        f"<tt:Month>{t.tm_mon}</tt:Month><tt:Day>{t.tm_mday}</tt:Day></tt:Date></tt:UTCDateTime>"
        "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


def answers(rtsp_port: int, port: int, host: str = "127.0.0.1") -> dict[bytes, bytes]:
    base = f"http://{host}:{port}/onvif"
    profile = (
        '<trt:Profiles token="Profile_1" fixed="true"><tt:Name>Main</tt:Name>'
        '<tt:VideoSourceConfiguration token="VSC"><tt:Name>VS</tt:Name><tt:UseCount>1'
        '</tt:UseCount><tt:SourceToken>VS_1</tt:SourceToken><tt:Bounds x="0" y="0" '
        'width="1920" height="1080"/></tt:VideoSourceConfiguration></trt:Profiles>'
    )
    return {
        b"GetDeviceInformation": envelope(
            "<tds:GetDeviceInformationResponse><tds:Manufacturer>Sim</tds:Manufacturer>"
            "<tds:Model>S-1</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion>"
            "<tds:SerialNumber>S0001</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId>"
            "</tds:GetDeviceInformationResponse>"
        ),
        b"GetServices": envelope(
            "<tds:GetServicesResponse>"
            + "".join(
                f"<tds:Service><tds:Namespace>http://www.onvif.org/ver10/{ns}/wsdl</tds:Namespace>"
                f"<tds:XAddr>{base}/{ns}_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major>"
                "<tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
                for ns in ("device", "media")
            )
            + "</tds:GetServicesResponse>"
        ),
        b"GetProfiles": envelope(f"<trt:GetProfilesResponse>{profile}</trt:GetProfilesResponse>"),
        b"GetStreamUri": envelope(
            "<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>"
            f"rtsp://{host}:{rtsp_port}/cam</tt:Uri><tt:InvalidAfterConnect>false"
            "</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
            "<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>"
        ),
    }


async def soap(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, canned: dict[bytes, bytes]
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length)
            reply = next((v for k, v in canned.items() if k in body), None) or clock()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml; charset=utf-8\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(reply), reply))  # fmt: skip
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


SDP = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\n"
       b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n")  # fmt: skip


async def rtsp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            cseq = next((ln.split(b":")[1].strip() for ln in head.split(b"\r\n")
                         if ln.lower().startswith(b"cseq:")), b"1")  # fmt: skip
            if head.startswith(b"DESCRIBE"):
                writer.write(b"RTSP/1.0 200 OK\r\nCSeq: %s\r\nContent-Type: application/sdp\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (cseq, len(SDP), SDP))  # fmt: skip
            else:
                writer.write(
                    b"RTSP/1.0 200 OK\r\nCSeq: %s\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n" % cseq
                )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(ports: int) -> None:
    rtsp_server = await asyncio.start_server(rtsp, "127.0.0.1", 0, backlog=1024)
    rtsp_port = rtsp_server.sockets[0].getsockname()[1]
    servers = []
    for _ in range(ports):
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        server.close()
        canned = answers(rtsp_port, port)
        servers.append(await asyncio.start_server(
            lambda r, w, c=canned: soap(r, w, c), "127.0.0.1", port, backlog=1024))  # fmt: skip
    print(" ".join(str(s.sockets[0].getsockname()[1]) for s in servers), flush=True)
    await asyncio.Event().wait()


async def lab() -> None:
    canned: dict[str, dict[bytes, bytes]] = {}

    def each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
        host = writer.get_extra_info("sockname")[0]
        if host not in canned:
            canned[host] = answers(554, 80, host)
        return soap(reader, writer, canned[host])

    await asyncio.start_server(rtsp, "0.0.0.0", 554, backlog=4096)
    await asyncio.start_server(each, "0.0.0.0", 80, backlog=4096)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(lab() if sys.argv[1] == "--lab" else main(int(sys.argv[1])))
