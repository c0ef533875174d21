"""ONVIF client: one `OnvifDevice` per device, reused from check to check, sharing one
`OnvifClient` (an HTTP connection pool) with every other device.

A device remembers its service addresses, its clock offset and its stream URI, so a
routine check of a camera costs one SOAP call (GetSystemDateAndTime) instead of the six of
a first look. Every call is bounded in time and size (monitord.checks.onvif.http)
and parsed by a hardened parser (monitord.checks.onvif.xml). Credentials are held as
SecretStr and never appear in an error or a result.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import aiohttp
from lxml import etree
from pydantic import SecretStr

from monitord.checks.onvif import http as onvif_http
from monitord.checks.onvif import soap as onvif_soap
from monitord.checks.onvif import xml as onvif_xml
from monitord.checks.onvif.errors import OnvifError, Reason
from monitord.config import addresses

NS_DEVICE: Final = "http://www.onvif.org/ver10/device/wsdl"
NS_MEDIA: Final = "http://www.onvif.org/ver10/media/wsdl"
NS_EVENTS: Final = "http://www.onvif.org/ver10/events/wsdl"
NS_RECORDING: Final = "http://www.onvif.org/ver10/recording/wsdl"
# Signing with the device's clock only when it is noticeably off: WS-Security tolerates
# a few seconds, and most devices are right.
_SIGN_WITH_DEVICE_CLOCK: Final = dt.timedelta(seconds=5)
_DATE: Final = ("Year", "Month", "Day")
_TIME: Final = ("Hour", "Minute", "Second")
_NOT_SUPPORTED_CODES: Final = ("ActionNotSupported", "NotSupported", "NoSuchService")

Observer = Callable[[str, float, str], None]
"""Told (operation, seconds, outcome) after each call: for the call-duration histogram."""


@dataclass(frozen=True, slots=True)
class OnvifTarget:
    address: str
    port: int = 80
    path: str = "/onvif/device_service"
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = 5.0
    follow: tuple[addresses.Network, ...] = ()  # see OnvifSettings.follow_addresses
    allow_basic: bool = False  # RTSP Basic authentication (clear-text password)

    @property
    def device_url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}{self.path}"


@dataclass(frozen=True, slots=True)
class Identity:
    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware: str


@dataclass(frozen=True, slots=True)
class ClockReading:
    device_utc: dt.datetime
    local_utc: dt.datetime
    ntp: bool | None

    @property
    def drift(self) -> float:
        """Seconds the device is ahead of us (negative: behind)."""
        return (self.device_utc - self.local_utc).total_seconds()


@dataclass(frozen=True, slots=True)
class StreamProfile:
    token: str
    name: str
    uri: str


class OnvifClient:
    """Process-wide: the HTTP pools. `close()` when done."""

    def __init__(
        self,
        observe: Observer = lambda _o, _s, _r: None,
        max_bytes: int = onvif_http.MAX_BYTES,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.observe, self.max_bytes = observe, max_bytes
        self._session = session
        self._events: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = onvif_http.new_session()
        return self._session

    @property
    def events_session(self) -> aiohttp.ClientSession:
        """PullMessages waits on the device: its own pool, so waits never hold up checks."""
        if self._events is None or self._events.closed:
            self._events = onvif_http.new_session(limit=0)
        return self._events

    def device(self, target: OnvifTarget, now: Callable[[], dt.datetime]) -> OnvifDevice:
        return OnvifDevice(self, target, now)

    async def close(self) -> None:
        for session in (self._session, self._events):
            if session is not None:
                await session.close()


class OnvifDevice:
    # Slotted: one per camera, kept for the life of the process (10 000 at fleet size).
    __slots__ = (
        "_http_date", "_now", "_unsigned_clock", "client", "clock_offset", "discovered",
        "http_digest", "profiles", "refused", "target", "xaddrs",
    )  # fmt: skip

    def __init__(
        self, client: OnvifClient, target: OnvifTarget, now: Callable[[], dt.datetime]
    ) -> None:
        self.client, self.target, self._now = client, target, now
        self.xaddrs: dict[str, str] = {NS_DEVICE: target.device_url}
        self.clock_offset: dt.timedelta | None = None
        self.discovered = False
        self._unsigned_clock = True  # until the device refuses an unsigned clock read
        self.profiles: list[StreamProfile] = []  # cached between identity refreshes
        # Set once the device asks for HTTP Digest: answered from then on, nonce kept.
        self.http_digest: aiohttp.DigestAuthMiddleware | None = None
        # What the device last pointed us to that we did not follow: "media" -> host.
        # Bounded by the handful of services, the subscription and the stream.
        self.refused: dict[str, str] = {}
        self._http_date: dt.datetime | None = None  # the last answer's Date header

    def permit(self, url: str, what: str) -> None:
        """Raise ADDRESS_REFUSED unless `url` (one the device returned) may be followed;
        remembered in `refused` until it may (a finding names the host)."""
        try:
            host = urlsplit(url.strip()).hostname or ""
        except ValueError:
            host = ""
        why = addresses.follow_refusal(host, self.target.address, self.target.follow)
        if why is None:
            self.refused.pop(what, None)
            return
        shown = "".join(c for c in host if c.isprintable())[:64] or "(none)"
        self.refused[what] = shown
        raise OnvifError(
            Reason.ADDRESS_REFUSED, f"{what}: not following the device to {shown} ({why})"
        )

    def retarget(self, target: OnvifTarget) -> None:
        """New settings (a reload): forget what depended on the old address."""
        if (target.address, target.port, target.path) != (
            self.target.address, self.target.port, self.target.path
        ):  # fmt: skip
            self.xaddrs, self.discovered = {NS_DEVICE: target.device_url}, False
            self.profiles = []
        if target.username != self.target.username or target.password != self.target.password:
            self.http_digest = None
        if target.follow != self.target.follow:
            self.refused = {}
        self.target = target

    async def call(
        self, service: str, namespace: str, operation: str,
        params: Mapping[str, onvif_soap.Value] | None = None, *, address: str | None = None,
        signed: bool = True, seconds: float | None = None, long_poll: bool = False,
    ) -> etree._Element:  # fmt: skip
        """`operation`'s response element (monitord.checks.onvif.soap.read)."""
        url = address or self.xaddrs.get(namespace)
        if url is None:
            raise OnvifError(Reason.NOT_SUPPORTED, f"the device offers no {service} service")
        self.permit(url, service)  # before anything is built, signed or sent
        t = self.target
        user = t.username if signed else None
        password = t.password.get_secret_value() if signed and t.password else None
        signer = None
        if user is not None and password is not None:
            offset = self.clock_offset
            if offset is None or abs(offset) < _SIGN_WITH_DEVICE_CLOCK:
                offset = dt.timedelta(0)
            signer = onvif_soap.Signer(user, password, self._now() + offset)
        request = onvif_soap.build(operation, url, params or {}, signer)
        started, outcome = time.perf_counter(), "ok"
        session = self.client.events_session if long_poll else self.client.session
        digest = self.http_digest if signed else None
        try:
            reply = await onvif_http.post(
                session, url, request.body, request.headers, seconds or t.timeout,
                self.client.max_bytes, digest,
            )  # fmt: skip
            if reply.digest_challenge and digest is None and user and password:
                digest = self.http_digest = aiohttp.DigestAuthMiddleware(user, password)
                reply = await onvif_http.post(
                    session, url, request.body, request.headers, seconds or t.timeout,
                    self.client.max_bytes, digest,
                )  # fmt: skip
            self._http_date = reply.date
            envelope = _envelope(reply, operation)
            return onvif_soap.read(operation, envelope)
        except OnvifError as exc:
            outcome = exc.reason.value
            raise
        finally:
            self.client.observe(operation, time.perf_counter() - started, outcome)

    async def read_clock(self) -> ClockReading:
        """GetSystemDateAndTime, unsigned first (ONVIF allows it before authentication, and
        we need the device's clock to sign at all); signed if the device insists."""
        before = self._now()
        op = "GetSystemDateAndTime"
        if self._unsigned_clock or self.target.username is None:
            try:
                got = await self.call("devicemgmt", NS_DEVICE, op, signed=False)
            except OnvifError as exc:
                if exc.reason != Reason.AUTH_REJECTED or self.target.username is None:
                    raise
                self._unsigned_clock = False
                self._offset_from_http_date(before)
                before = self._now()
                got = await self.call("devicemgmt", NS_DEVICE, op)
        else:
            got = await self.call("devicemgmt", NS_DEVICE, op)
        after = self._now()
        told = onvif_xml.child(got, "SystemDateAndTime")
        utc = onvif_xml.child(told, "UTCDateTime")
        if utc is None:
            raise OnvifError(Reason.BAD_RESPONSE, "GetSystemDateAndTime: no UTCDateTime")
        try:
            year, month, day = (int(onvif_xml.text(utc, "Date", n) or "") for n in _DATE)
            hour, minute, second = (int(onvif_xml.text(utc, "Time", n) or "") for n in _TIME)
            device = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
        except ValueError:
            raise OnvifError(Reason.BAD_RESPONSE, "GetSystemDateAndTime: invalid date") from None
        local = before + (after - before) / 2
        reading = ClockReading(device, local, _ntp(told))
        self.clock_offset = dt.timedelta(seconds=round(reading.drift))
        return reading

    def _offset_from_http_date(self, asked: dt.datetime) -> None:
        """A device that signs even its clock read needs a digest created by its own clock
        before we have read it: its HTTP Date header (the same clock, to the second) is
        the first guess, corrected by the signed read that follows."""
        if self.clock_offset is None and self._http_date is not None:
            seconds = (self._http_date - asked).total_seconds()
            self.clock_offset = dt.timedelta(seconds=round(seconds))

    async def identity(self) -> Identity:
        got = await self.call("devicemgmt", NS_DEVICE, "GetDeviceInformation")
        return Identity(
            _text(got, "Manufacturer"), _text(got, "Model"), _text(got, "FirmwareVersion"),
            _text(got, "SerialNumber"), _text(got, "HardwareId"),
        )  # fmt: skip

    async def discover(self) -> dict[str, str]:
        """Service addresses: GetServices, or GetCapabilities on older devices."""
        found: dict[str, str] = {}
        try:
            services = await self.call(
                "devicemgmt", NS_DEVICE, "GetServices", {"IncludeCapability": False}
            )
            for s in onvif_xml.children(services, "Service"):
                namespace, xaddr = onvif_xml.text(s, "Namespace"), onvif_xml.text(s, "XAddr")
                if namespace and xaddr:
                    found[sys.intern(namespace)] = xaddr  # the same few across cameras
        except OnvifError as exc:
            if exc.reason not in (Reason.FAULT, Reason.NOT_SUPPORTED, Reason.BAD_RESPONSE):
                raise
        if not found:
            got = await self.call("devicemgmt", NS_DEVICE, "GetCapabilities", {"Category": "All"})
            caps = onvif_xml.child(got, "Capabilities")
            for namespace, name in ((NS_MEDIA, "Media"), (NS_EVENTS, "Events")):
                xaddr = onvif_xml.text(caps, name, "XAddr")
                if xaddr:
                    found[namespace] = xaddr
        # The device service is where we already talk to the device: never moved by it.
        found[NS_DEVICE] = self.target.device_url
        self.xaddrs, self.discovered = found, True
        return found

    async def stream_profiles(self, limit: int = 1) -> list[StreamProfile]:
        """GetProfiles, then GetStreamUri (RTSP over RTP unicast) of the first `limit`."""
        profiles = await self.call("media", NS_MEDIA, "GetProfiles")
        out: list[StreamProfile] = []
        for p in onvif_xml.children(profiles, "Profiles")[:limit]:
            token = (p.get("token") or "").strip()[:64]
            setup: onvif_soap.Value = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
            got = await self.call(
                "media", NS_MEDIA, "GetStreamUri", {"StreamSetup": setup, "ProfileToken": token}
            )
            uri = onvif_xml.text(got, "MediaUri", "Uri")
            if not uri:
                raise OnvifError(Reason.BAD_RESPONSE, f"GetStreamUri of {token}: no URI")
            name = (onvif_xml.text(p, "Name") or token)[:64]
            out.append(StreamProfile(sys.intern(token), sys.intern(name), uri))
        self.profiles = out
        return out


def _envelope(reply: onvif_http.HttpReply, operation: str) -> etree._Element:
    try:
        envelope = onvif_xml.parse(reply.body)
    except OnvifError:
        if reply.status == 401:
            raise OnvifError(Reason.AUTH_REJECTED, "credentials rejected (HTTP 401)", 401) from None
        if reply.status != 200:
            raise OnvifError(
                Reason.HTTP_ERROR, f"{operation}: HTTP {reply.status}", reply.status
            ) from None
        raise
    fault = onvif_xml.fault(envelope)
    if fault is not None:
        code, text = fault
        if reply.status == 401 or "NotAuthorized" in code or "not authorized" in text.lower():
            raise OnvifError(Reason.AUTH_REJECTED, "credentials rejected", reply.status)
        if any(c in code for c in _NOT_SUPPORTED_CODES):
            raise OnvifError(
                Reason.NOT_SUPPORTED, f"{operation} not supported ({code})", reply.status
            )
        raise OnvifError(Reason.FAULT, f"{operation}: SOAP fault {code}: {text}", reply.status)
    if reply.status == 401:
        raise OnvifError(Reason.AUTH_REJECTED, "credentials rejected (HTTP 401)", 401)
    if reply.status != 200:
        raise OnvifError(Reason.HTTP_ERROR, f"{operation}: HTTP {reply.status}", reply.status)
    return envelope


def _text(node: etree._Element, name: str) -> str:
    # Interned: one string for every camera of a model (a serial costs one table slot).
    return sys.intern((onvif_xml.text(node, name) or "")[:128])


def _ntp(told: etree._Element | None) -> bool | None:
    kind = onvif_xml.text(told, "DateTimeType")
    return None if kind is None else kind == "NTP"
