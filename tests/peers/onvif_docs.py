"""The SOAP 1.2 documents tests/peers/onvif.py answers with.

Shapes follow the ONVIF WSDLs and schemas (devicemgmt, media, recording, events, onvif.xsd,
OASIS WS-BaseNotification b-2) and the message examples of the ONVIF Core, Recording Control
and Event specifications; tests/integration/test_onvifpeer.py validates every answer against
those schemas as shipped in onvif-zeep-async.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS = {
    "env": SOAP,
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "trc": "http://www.onvif.org/ver10/recording/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "ter": "http://www.onvif.org/ver10/error",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tns1": "http://www.onvif.org/ver10/topics",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
_XMLNS = " ".join(f"xmlns:{prefix}={quoteattr(uri)}" for prefix, uri in NS.items())
CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(body: str, action: str | None = None) -> bytes:
    header = f"<env:Header><wsa:Action>{escape(action)}</wsa:Action></env:Header>" if action else ""
    text = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope {_XMLNS}>{header}'
        f"<env:Body>{body}</env:Body></env:Envelope>"
    )
    return text.encode("utf-8")


def fault(code: str, subcodes: Iterable[str], reason: str) -> str:
    """A SOAP 1.2 fault, e.g. fault("env:Sender", ["ter:NotAuthorized"], "Sender not Authorized")."""
    nested = ""
    for subcode in reversed(list(subcodes)):
        nested = f"<env:Subcode><env:Value>{subcode}</env:Value>{nested}</env:Subcode>"
    return (
        f"<env:Fault><env:Code><env:Value>{code}</env:Value>{nested}</env:Code>"
        f'<env:Reason><env:Text xml:lang="en">{escape(reason)}</env:Text></env:Reason></env:Fault>'
    )


class SoapFault(Exception):
    """Raised by the peer's handlers; answered as `fault(code, subcodes, reason)`."""

    def __init__(self, status: int, code: str, subcodes: list[str], reason: str) -> None:
        super().__init__(reason)
        self.status, self.code, self.subcodes, self.reason = status, code, subcodes, reason


def not_authorized(status: int) -> SoapFault:
    return SoapFault(status, "env:Sender", ["ter:NotAuthorized"], "Sender not Authorized")


NOT_SUPPORTED = ("env:Receiver", ["ter:ActionNotSupported"], "Optional Action Not Implemented")


@dataclass(frozen=True)
class DeviceInfo:
    manufacturer: str = "Lemon Security"
    model: str = "NVR-3208"
    firmware: str = "V4.2.1 build 250601"
    serial: str = "LS3208-0000042"
    hardware: str = "88"
    mac: str = "00:12:41:6c:00:2a"


def network_interfaces(mac: str) -> str:
    """GetNetworkInterfacesResponse with one enabled wired interface (ONVIF Core 8.2.3)."""
    return (
        '<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0">'
        "<tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>eth0</tt:Name>"
        f"<tt:HwAddress>{escape(mac)}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>"
        "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>"
    )


def device_information(info: DeviceInfo) -> str:
    return (
        "<tds:GetDeviceInformationResponse>"
        f"<tds:Manufacturer>{escape(info.manufacturer)}</tds:Manufacturer>"
        f"<tds:Model>{escape(info.model)}</tds:Model>"
        f"<tds:FirmwareVersion>{escape(info.firmware)}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{escape(info.serial)}</tds:SerialNumber>"
        f"<tds:HardwareId>{escape(info.hardware)}</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>"
    )


def _datetime(tag: str, moment: dt.datetime) -> str:
    return (
        f"<tt:{tag}><tt:Time><tt:Hour>{moment.hour}</tt:Hour><tt:Minute>{moment.minute}"
        f"</tt:Minute><tt:Second>{moment.second}</tt:Second></tt:Time>"
        f"<tt:Date><tt:Year>{moment.year}</tt:Year><tt:Month>{moment.month}</tt:Month>"
        f"<tt:Day>{moment.day}</tt:Day></tt:Date></tt:{tag}>"
    )


def system_date_and_time(utc: dt.datetime, tz: str, utc_offset: dt.timedelta) -> str:
    """`tz` is the POSIX string a camera reports (China: "CST-8"); LocalDateTime = UTC + offset."""
    return (
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        f"<tt:TimeZone><tt:TZ>{escape(tz)}</tt:TZ></tt:TimeZone>"
        f"{_datetime('UTCDateTime', utc)}{_datetime('LocalDateTime', utc + utc_offset)}"
        "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


@dataclass(frozen=True)
class Service:
    namespace: str
    xaddr: str
    major: int
    minor: int


def services(items: Iterable[Service]) -> str:
    body = "".join(
        f"<tds:Service><tds:Namespace>{s.namespace}</tds:Namespace>"
        f"<tds:XAddr>{escape(s.xaddr)}</tds:XAddr><tds:Version><tt:Major>{s.major}</tt:Major>"
        f"<tt:Minor>{s.minor}</tt:Minor></tds:Version></tds:Service>"
        for s in items
    )
    return f"<tds:GetServicesResponse>{body}</tds:GetServicesResponse>"


def capabilities(device: str, media: str, events: str, recording: str | None) -> str:
    extension = (
        f"<tt:Extension><tt:Recording><tt:XAddr>{escape(recording)}</tt:XAddr>"
        "<tt:ReceiverSource>false</tt:ReceiverSource>"
        "<tt:MediaProfileSource>true</tt:MediaProfileSource>"
        "<tt:DynamicRecordings>false</tt:DynamicRecordings>"
        "<tt:DynamicTracks>false</tt:DynamicTracks>"
        "<tt:MaxStringLength>64</tt:MaxStringLength></tt:Recording></tt:Extension>"
        if recording
        else ""
    )
    return (
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        f"<tt:Device><tt:XAddr>{escape(device)}</tt:XAddr></tt:Device>"
        f"<tt:Events><tt:XAddr>{escape(events)}</tt:XAddr>"
        "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
        "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
        "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
        "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>"
        f"<tt:Media><tt:XAddr>{escape(media)}</tt:XAddr><tt:StreamingCapabilities>"
        "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
        "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
        f"{extension}</tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


def profiles(tokens: Iterable[str]) -> str:
    body = "".join(
        f'<trt:Profiles token={quoteattr(t)} fixed="true"><tt:Name>{escape(t)}</tt:Name>'
        "</trt:Profiles>"
        for t in tokens
    )
    return f"<trt:GetProfilesResponse>{body}</trt:GetProfilesResponse>"


def stream_uri(uri: str) -> str:
    return (
        f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{escape(uri)}</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
        "<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>"
    )


@dataclass(frozen=True)
class Channel:
    """One NVR channel: a recording fed by one camera, written by one recording job."""

    number: int
    state: str = "Active"  # RecordingJobState: Active, Idle, PartiallyActive, Error
    mode: str = "Active"  # RecordingJobMode the job is configured with
    error: str | None = None

    @property
    def recording(self) -> str:
        return f"Recording_{self.number}"

    @property
    def job(self) -> str:
        return f"RecordingJob_{self.number}"

    @property
    def source(self) -> str:
        return f"Profile_{self.number}"


def recordings(channels: Iterable[Channel]) -> str:
    items = "".join(
        f"<trc:RecordingItem><tt:RecordingToken>{c.recording}</tt:RecordingToken>"
        "<tt:Configuration><tt:Source>"
        f"<tt:SourceId>urn:uuid:cam-{c.number}</tt:SourceId><tt:Name>Camera {c.number}</tt:Name>"
        f"<tt:Location>Channel {c.number}</tt:Location><tt:Description>IP camera</tt:Description>"
        f"<tt:Address>http://192.0.2.{c.number}/onvif/device_service</tt:Address></tt:Source>"
        f"<tt:Content>Channel {c.number}</tt:Content>"
        "<tt:MaximumRetentionTime>P30D</tt:MaximumRetentionTime></tt:Configuration>"
        "<tt:Tracks><tt:Track><tt:TrackToken>VIDEO001</tt:TrackToken><tt:Configuration>"
        "<tt:TrackType>Video</tt:TrackType><tt:Description>Video track</tt:Description>"
        "</tt:Configuration></tt:Track></tt:Tracks></trc:RecordingItem>"
        for c in channels
    )
    return f"<trc:GetRecordingsResponse>{items}</trc:GetRecordingsResponse>"


def recording_jobs(channels: Iterable[Channel]) -> str:
    items = "".join(
        f"<trc:JobItem><tt:JobToken>{c.job}</tt:JobToken><tt:JobConfiguration>"
        f"<tt:RecordingToken>{c.recording}</tt:RecordingToken><tt:Mode>{c.mode}</tt:Mode>"
        "<tt:Priority>1</tt:Priority><tt:Source>"
        f'<tt:SourceToken Type="http://www.onvif.org/ver10/schema/Profile">'
        f"<tt:Token>{c.source}</tt:Token></tt:SourceToken>"
        "<tt:Tracks><tt:SourceTag>V1</tt:SourceTag><tt:Destination>VIDEO001</tt:Destination>"
        "</tt:Tracks></tt:Source></tt:JobConfiguration></trc:JobItem>"
        for c in channels
    )
    return f"<trc:GetRecordingJobsResponse>{items}</trc:GetRecordingJobsResponse>"


def recording_job_state(c: Channel) -> str:
    error = f"<tt:Error>{escape(c.error)}</tt:Error>" if c.error else ""
    return (
        "<trc:GetRecordingJobStateResponse><trc:State>"
        f"<tt:RecordingToken>{c.recording}</tt:RecordingToken><tt:State>{c.state}</tt:State>"
        '<tt:Sources><tt:SourceToken Type="http://www.onvif.org/ver10/schema/Profile">'
        f"<tt:Token>{c.source}</tt:Token></tt:SourceToken><tt:State>{c.state}</tt:State>"
        "<tt:Tracks><tt:Track><tt:SourceTag>V1</tt:SourceTag>"
        f"<tt:Destination>VIDEO001</tt:Destination>{error}<tt:State>{c.state}</tt:State>"
        "</tt:Track></tt:Tracks></tt:Sources></trc:State></trc:GetRecordingJobStateResponse>"
    )


@dataclass(frozen=True)
class Notification:
    topic: str  # e.g. "tns1:VideoSource/SignalLoss"
    source: Mapping[str, str]
    data: Mapping[str, str]
    utc: dt.datetime
    operation: str = "Changed"  # PropertyOperation: Initialized, Changed, Deleted


def _items(tag: str, items: Mapping[str, str]) -> str:
    inner = "".join(
        f"<tt:SimpleItem Name={quoteattr(k)} Value={quoteattr(v)}/>" for k, v in items.items()
    )
    return f"<tt:{tag}>{inner}</tt:{tag}>"


def notification(n: Notification) -> str:
    return (
        f'<wsnt:NotificationMessage><wsnt:Topic Dialect="{CONCRETE_SET}">{escape(n.topic)}'
        f'</wsnt:Topic><wsnt:Message><tt:Message UtcTime="{iso(n.utc)}" '
        f'PropertyOperation="{n.operation}">{_items("Source", n.source)}'
        f"{_items('Data', n.data)}</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
    )


def subscription_created(address: str, now: dt.datetime, until: dt.datetime) -> str:
    return (
        "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
        f"<wsa:Address>{escape(address)}</wsa:Address></tev:SubscriptionReference>"
        f"<wsnt:CurrentTime>{iso(now)}</wsnt:CurrentTime>"
        f"<wsnt:TerminationTime>{iso(until)}</wsnt:TerminationTime>"
        "</tev:CreatePullPointSubscriptionResponse>"
    )


def pulled(now: dt.datetime, until: dt.datetime, messages: Iterable[Notification]) -> str:
    return (
        f"<tev:PullMessagesResponse><tev:CurrentTime>{iso(now)}</tev:CurrentTime>"
        f"<tev:TerminationTime>{iso(until)}</tev:TerminationTime>"
        f"{''.join(notification(m) for m in messages)}</tev:PullMessagesResponse>"
    )


def renewed(now: dt.datetime, until: dt.datetime) -> str:
    return (
        f"<wsnt:RenewResponse><wsnt:TerminationTime>{iso(until)}</wsnt:TerminationTime>"
        f"<wsnt:CurrentTime>{iso(now)}</wsnt:CurrentTime></wsnt:RenewResponse>"
    )


UNSUBSCRIBED = "<wsnt:UnsubscribeResponse/>"
SYNCHRONIZED = "<tev:SetSynchronizationPointResponse/>"
