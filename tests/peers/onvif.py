"""A small ONVIF device for tests: device, media, Profile G recording and PullPoint events.

No simulator offers recording state or events (../shared/research/libs.md, section 3), so this
peer answers real SOAP 1.2 documents (tests/peers/onvif_docs.py) over HTTP on 127.0.0.1, in a
thread of the test process:

    with OnvifPeer(channels=4) as nvr:
        nvr.url                                   # http://127.0.0.1:PORT/onvif/device_service
        nvr.set_channel(2, state="Error", error="disk full")   # GetRecordingJobState
        nvr.clock_offset = 95.0                    # its clock runs 95 s ahead
        nvr.video_loss("Profile_3", lost=True)     # a PullPoint notification
        nvr.recording_supported = False            # ter:ActionNotSupported, not advertised

Authentication is WS-Security UsernameToken (PasswordDigest or PasswordText) checked on every
operation except those in `pre_auth`; a failure is the SOAP fault env:Sender/ter:NotAuthorized
with HTTP `auth_fault_status` (400 per ONVIF Core, 401 on many cameras). After `lockout_after`
consecutive failures the account stays locked for `lockout_seconds` of the peer's clock, even
for the right password, as some cameras do. A reused nonce is rejected (replay protection).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email.utils
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

from tests.peers import onvif_docs as docs
from tests.peers.onvif_docs import NOT_SUPPORTED, NS, Channel, DeviceInfo, SoapFault
from tests.peers.onvif_events import (
    JOB_STATE,
    STORAGE_FAILURE,
    TAMPER,
    VIDEO_LOSS,
    PullPoints,
    parse_time,
)
from tests.peers.onvif_wsse import password_digest

DEVICE_PATH, MEDIA_PATH = "/onvif/device_service", "/onvif/media_service"
RECORDING_PATH, EVENTS_PATH = "/onvif/recording_service", "/onvif/event_service"
SUBSCRIPTION_PATH = "/onvif/subscription/"
MAX_REQUEST = 1024 * 1024


class OnvifPeer:
    def __init__(
        self,
        *,
        username: str = "admin",
        password: str = "Adm1n-9x!",
        channels: int = 4,
        recording: bool = True,
        info: DeviceInfo | None = None,
        clock: Callable[[], float] = time.time,
        clock_offset: float = 0.0,
        tz: str = "CST-8",
        utc_offset: dt.timedelta = dt.timedelta(hours=8),
        auth_fault_status: int = 400,
        pre_auth: frozenset[str] = frozenset({"GetSystemDateAndTime"}),
        lockout_after: int | None = None,
        lockout_seconds: float = 1800.0,
        max_created_skew: float | None = None,
        stream_uri: str = "rtsp://127.0.0.1:554/stream1",
        max_pull_wait: float = 5.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.host, self._bind_port = (
            host,
            port,
        )  # 0: any free port  # any 127.0.0.0/8 address: a second host on loopback
        self.username, self.password = username, password
        self.info = info or DeviceInfo()
        self.recording_supported = recording
        self.clock, self.clock_offset = clock, clock_offset
        self.tz, self.utc_offset = tz, utc_offset
        self.auth_fault_status = auth_fault_status
        self.pre_auth = pre_auth
        self.lockout_after, self.lockout_seconds = lockout_after, lockout_seconds
        self.max_created_skew = max_created_skew
        self.stream_uri = stream_uri
        self.max_pull_wait = max_pull_wait
        self.calls: list[str] = []  # operation names, in arrival order
        self.bodies: list[bytes] = []  # every request body, as it arrived
        # Service, subscription and stream addresses this peer hands out point here: a
        # camera that sends its clients elsewhere (tests of following returned addresses).
        self.advertise: str | None = None
        self.advertise_subscription: str | None = None  # the PullPoint's alone
        self.auth_failures = 0  # every rejected request
        self._channels = {n: Channel(n) for n in range(1, channels + 1)}
        self._nonces: set[str] = set()
        self._failures_in_row = 0
        self._locked_until = 0.0
        self._cond = threading.Condition()
        self._events = PullPoints(self._cond, self.now, max_pull_wait)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        for channel in self._channels.values():
            self._initial_properties(channel)
        self._events.set_property(
            STORAGE_FAILURE, {"Token": "Storage_1"}, {"Failed": "false"}, False
        )

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        handler = type("Handler", (_Handler,), {"owner": self})
        self._server = ThreadingHTTPServer((self.host, self._bind_port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._events.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._cond:
            # Kept-alive connections would otherwise go on being answered by their threads.
            for sock in self._connections:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def port(self) -> int:
        assert self._server is not None, "use OnvifPeer as a context manager"
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base + DEVICE_PATH

    @property
    def advertised(self) -> str:
        """The base of the addresses this peer returns: its own unless `advertise` is set."""
        return self.advertise or self.base

    # --- what a test changes -----------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The peer's own clock: the test's clock plus clock_offset."""
        return dt.datetime.fromtimestamp(self.clock() + self.clock_offset, dt.UTC)

    def channel(self, number: int) -> Channel:
        with self._cond:
            return self._channels[number]

    def set_channel(
        self,
        number: int,
        *,
        state: str | None = None,
        mode: str | None = None,
        error: str | None = None,
    ) -> None:
        """Change a recording job (its error text is cleared unless given again); a change of
        state sends a JobState notification to every subscriber, as an NVR does."""
        with self._cond:
            old = self._channels[number]
            new = replace(old, state=state or old.state, mode=mode or old.mode, error=error or None)
            self._channels[number] = new
        if new.state != old.state:
            self.push(JOB_STATE, {"RecordingJobToken": new.job}, {"State": new.state})

    def tamper(self, source: str, active: bool) -> None:
        self.push(TAMPER, {"Source": source}, {"State": _bool(active)})

    def video_loss(self, source: str, lost: bool) -> None:
        self.push(VIDEO_LOSS, {"Source": source}, {"State": _bool(lost)})

    def storage_failure(self, token: str, failed: bool) -> None:
        self.push(STORAGE_FAILURE, {"Token": token}, {"Failed": _bool(failed)})

    def push(self, topic: str, source: dict[str, str], data: dict[str, str]) -> None:
        """A property change (PropertyOperation "Changed") queued for every live subscription."""
        self._events.set_property(topic, source, data, True)

    @property
    def subscriptions(self) -> int:
        return self._events.count()

    # --- internals ---------------------------------------------------------------------------

    def _initial_properties(self, channel: Channel) -> None:
        self._events.set_property(VIDEO_LOSS, {"Source": channel.source}, {"State": "false"}, False)
        self._events.set_property(TAMPER, {"Source": channel.source}, {"State": "false"}, False)
        self._events.set_property(
            JOB_STATE, {"RecordingJobToken": channel.job}, {"State": "Active"}, False
        )

    def _check_auth(self, root: ET.Element) -> None:
        with self._cond:
            now = self.clock()
            if now < self._locked_until:
                self.auth_failures += 1
                raise docs.not_authorized(self.auth_fault_status)
            if self._token_valid(root):
                self._failures_in_row = 0
                return
            self.auth_failures += 1
            self._failures_in_row += 1
            if self.lockout_after is not None and self._failures_in_row >= self.lockout_after:
                self._locked_until = now + self.lockout_seconds
            raise docs.not_authorized(self.auth_fault_status)

    def _token_valid(self, root: ET.Element) -> bool:
        token = root.find("env:Header/wsse:Security/wsse:UsernameToken", NS)
        if token is None or token.findtext("wsse:Username", "", NS) != self.username:
            return False
        password = token.find("wsse:Password", NS)
        if password is None:
            return False
        if password.get("Type", "").endswith("#PasswordText"):
            return (password.text or "") == self.password
        nonce = token.findtext("wsse:Nonce", "", NS).strip()
        created = token.findtext("wsu:Created", "", NS).strip()
        try:
            raw = base64.b64decode(nonce, validate=True)
        except ValueError:
            return False
        if not nonce or not created or nonce in self._nonces:
            return False
        if self.max_created_skew is not None:
            stamp = parse_time(created)
            if stamp is None or abs((stamp - self.now()).total_seconds()) > self.max_created_skew:
                return False
        if (password.text or "").strip() != password_digest(raw, created, self.password):
            return False
        self._nonces.add(nonce)
        return True

    def answer(self, path: str, root: ET.Element) -> tuple[str, str | None]:
        """The body (and WS-Addressing action, for events) answering one request."""
        body = root.find("env:Body", NS)
        if body is None or len(body) == 0:
            raise SoapFault(400, "env:Sender", ["ter:InvalidArgs"], "No SOAP body")
        request = body[0]
        operation = request.tag.rsplit("}", 1)[-1]
        with self._cond:
            self.calls.append(operation)
        if operation not in self.pre_auth:
            self._check_auth(root)
        if path == DEVICE_PATH:
            return self._device(operation), None
        if path == MEDIA_PATH:
            return self._media(operation), None
        if path == RECORDING_PATH:
            return self._recording(operation, request), None
        if path == EVENTS_PATH and operation == "CreatePullPointSubscription":
            base = self.advertise_subscription or self.advertised
            return self._events.subscribe(request, base + SUBSCRIPTION_PATH)
        if path.startswith(SUBSCRIPTION_PATH):
            key = path.removeprefix(SUBSCRIPTION_PATH)
            return self._events.handle(key, operation, request)
        raise SoapFault(500, *NOT_SUPPORTED)

    def _device(self, operation: str) -> str:
        base = self.advertised
        recording = base + RECORDING_PATH if self.recording_supported else None
        if operation == "GetDeviceInformation":
            return docs.device_information(self.info)
        if operation == "GetNetworkInterfaces":
            return docs.network_interfaces(self.info.mac)
        if operation == "GetSystemDateAndTime":
            return docs.system_date_and_time(self.now(), self.tz, self.utc_offset)
        if operation == "GetCapabilities":
            return docs.capabilities(
                base + DEVICE_PATH, base + MEDIA_PATH, base + EVENTS_PATH, recording
            )
        if operation == "GetServices":
            items = [
                docs.Service(NS["tds"], base + DEVICE_PATH, 2, 60),
                docs.Service(NS["trt"], base + MEDIA_PATH, 2, 60),
                docs.Service(NS["tev"], base + EVENTS_PATH, 2, 60),
            ]
            if recording:
                items.append(docs.Service(NS["trc"], recording, 2, 60))
            return docs.services(items)
        raise SoapFault(500, *NOT_SUPPORTED)

    def _media(self, operation: str) -> str:
        if operation == "GetProfiles":
            return docs.profiles([c.source for c in self._channels.values()][:2])
        if operation == "GetStreamUri":
            return docs.stream_uri(self.stream_uri)
        raise SoapFault(500, *NOT_SUPPORTED)

    def _recording(self, operation: str, request: ET.Element) -> str:
        if not self.recording_supported:
            raise SoapFault(500, *NOT_SUPPORTED)
        with self._cond:
            channels = list(self._channels.values())
        if operation == "GetRecordings":
            return docs.recordings(channels)
        if operation == "GetRecordingJobs":
            return docs.recording_jobs(channels)
        if operation == "GetRecordingJobState":
            token = request.findtext("trc:JobToken", "", NS).strip()
            for channel in channels:
                if channel.job == token:
                    return docs.recording_job_state(channel)
            raise SoapFault(
                400,
                "env:Sender",
                ["ter:InvalidArgVal", "ter:NoRecordingJob"],
                "The JobToken does not reference an existing job",
            )
        raise SoapFault(500, *NOT_SUPPORTED)


def _bool(value: bool) -> str:
    return "true" if value else "false"


class _Handler(BaseHTTPRequestHandler):
    owner: OnvifPeer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        with self.owner._cond:
            self.owner._connections.add(self.connection)

    def finish(self) -> None:
        with self.owner._cond:
            self.owner._connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The HTTP Date header by the device's own clock, as a camera's web server sends it.
        return email.utils.format_datetime(self.owner.now(), usegmt=True)

    def _send(self, status: int, payload: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_REQUEST:
            self._send(HTTPStatus.LENGTH_REQUIRED, b"", "text/plain")
            return
        data = self.rfile.read(int(length))
        with self.owner._cond:
            self.owner.bodies.append(data)
        soap = "application/soap+xml; charset=utf-8"
        try:
            root = ET.fromstring(data)
            if root.tag != f"{{{NS['env']}}}Envelope":
                raise SoapFault(400, "env:VersionMismatch", [], "Not a SOAP 1.2 envelope")
            body, action = self.owner.answer(self.path.split("?", 1)[0], root)
        except ET.ParseError:
            fault = docs.fault("env:Sender", ["ter:WellFormed"], "Well-formed Error")
            self._send(400, docs.envelope(fault), soap)
            return
        except SoapFault as exc:
            fault = docs.fault(exc.code, exc.subcodes, exc.reason)
            self._send(exc.status, docs.envelope(fault), soap)
            return
        self._send(200, docs.envelope(body, action), soap)

    def do_GET(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"", "text/plain")
