"""Self-test of tests/peers/onvif.py: raw SOAP 1.2 POSTs, every answer validated against the ONVIF
schemas shipped in onvif-zeep-async (the same documents a real camera's answers must match)."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from monitord.checks.onvif import recording as onvif_recording
from monitord.checks.onvif import soap as onvif_soap
from monitord.checks.onvif.client import NS_DEVICE, OnvifClient, OnvifTarget
from monitord.checks.onvif.pullpoint import PullPoint
from tests.peers.onvif import (
    EVENTS_PATH,
    JOB_STATE,
    MEDIA_PATH,
    RECORDING_PATH,
    STORAGE_FAILURE,
    TAMPER,
    VIDEO_LOSS,
    OnvifPeer,
)
from tests.peers.onvif_docs import NS, iso
from tests.peers.onvif_wsse import Token, request

etree = pytest.importorskip("lxml.etree")
XS = "http://www.w3.org/2001/XMLSchema"
T0 = 1_790_000_000.0  # 2026-09-21T13:46:40Z
Validator = Callable[[object], None]


@pytest.fixture(scope="module")
def validate() -> Validator:
    spec = importlib.util.find_spec("onvif")
    if spec is None or spec.origin is None:
        pytest.skip("onvif-zeep-async (the ONVIF schemas) is not installed")
    wsdl = Path(spec.origin).parent / "wsdl"
    schemas = {}
    for name in ("devicemgmt.wsdl", "media.wsdl", "recording.wsdl", "events.wsdl"):
        tree = etree.parse(str(wsdl / name))
        for embedded in tree.iter(f"{{{XS}}}schema"):
            # The schema's QName values use prefixes declared on wsdl:definitions.
            nsmap = {**tree.getroot().nsmap, **embedded.nsmap}
            schema = etree.Element(embedded.tag, dict(embedded.attrib), nsmap=nsmap)
            schema.extend(copy.deepcopy(child) for child in embedded)
            document = etree.ElementTree(schema)
            document.docinfo.URL = str(wsdl / name)
            schemas[embedded.get("targetNamespace")] = etree.XMLSchema(document)
    schemas[NS["wsnt"]] = etree.XMLSchema(etree.parse(str(wsdl / "b-2.xsd")))

    def check(element: object) -> None:
        namespace = etree.QName(element).namespace
        schema = schemas[namespace]
        document = etree.ElementTree(copy.deepcopy(element))
        assert schema.validate(document), schema.error_log

    return check


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def nvr(clock: Clock) -> Iterator[OnvifPeer]:
    with OnvifPeer(channels=3, clock=clock, stream_uri="rtsp://127.0.0.1:8554/test") as peer:
        yield peer


_http = httpx.Client(timeout=10)  # one client: httpx builds an SSL context per client


@pytest.fixture(scope="module", autouse=True)
def _close_http() -> Iterator[None]:
    yield
    _http.close()


def post(url: str, body: str, token: Token | None) -> httpx.Response:
    return _http.post(
        url,
        content=request(body, token),
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
    )


def call(peer: OnvifPeer, path: str, body: str, validate: Validator, auth: bool = True) -> object:
    """POST one operation; return the validated first child of the answer's Body."""
    token = Token(peer.username, peer.password) if auth else None
    reply = post(peer.base + path, body, token)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/soap+xml")
    answer = etree.fromstring(reply.content).find("env:Body", NS)[0]
    validate(answer)
    return answer


def fault_of(reply: httpx.Response) -> list[str]:
    """The fault's code and subcode values, outermost first."""
    root = etree.fromstring(reply.content)
    return [v.text for v in root.iterfind(".//env:Code//env:Value", NS)]


def text(element: object, path: str) -> str:
    found = element.findtext(path, namespaces=NS)  # type: ignore[attr-defined]
    assert found is not None, path
    return str(found)


def test_the_schemas_catch_a_wrong_document(validate: Validator) -> None:
    # Without this the validation below could be passing everything.
    wrong = etree.fromstring(
        f'<trc:GetRecordingJobStateResponse xmlns:trc="{NS["trc"]}" xmlns:tt="{NS["tt"]}">'
        "<trc:State><tt:State>Active</tt:State></trc:State></trc:GetRecordingJobStateResponse>"
    )
    with pytest.raises(AssertionError, match="RecordingToken"):
        validate(wrong)


def test_a_closed_peer_answers_nobody(clock: Clock) -> None:
    with OnvifPeer(clock=clock) as cam:
        url = cam.url
        assert post(url, "<tds:GetSystemDateAndTime/>", None).status_code == 200
    with pytest.raises(httpx.TransportError):
        post(url, "<tds:GetSystemDateAndTime/>", None)


def test_device_information_with_digest(nvr: OnvifPeer, validate: Validator) -> None:
    answer = call(nvr, "/onvif/device_service", "<tds:GetDeviceInformation/>", validate)
    assert text(answer, "tds:Manufacturer") == nvr.info.manufacturer
    assert text(answer, "tds:FirmwareVersion") == nvr.info.firmware
    assert nvr.calls == ["GetDeviceInformation"]


def test_clock_offset_shows_as_drift(nvr: OnvifPeer, clock: Clock, validate: Validator) -> None:
    nvr.clock_offset = 95.0
    body = "<tds:GetSystemDateAndTime/>"
    answer = call(nvr, "/onvif/device_service", body, validate, auth=False)
    utc = answer.find("tds:SystemDateAndTime/tt:UTCDateTime", NS)
    parts = [int(text(utc, p)) for p in ("tt:Date/tt:Year", "tt:Date/tt:Month", "tt:Date/tt:Day")]
    parts += [
        int(text(utc, p)) for p in ("tt:Time/tt:Hour", "tt:Time/tt:Minute", "tt:Time/tt:Second")
    ]
    reported = dt.datetime(*parts, tzinfo=dt.UTC).timestamp()  # type: ignore[misc]
    assert reported - clock.now == 95.0
    local = answer.find("tds:SystemDateAndTime/tt:LocalDateTime/tt:Time", NS)
    assert int(text(local, "tt:Hour")) == (int(text(utc, "tt:Time/tt:Hour")) + 8) % 24
    assert text(answer, "tds:SystemDateAndTime/tt:TimeZone/tt:TZ") == "CST-8"


@pytest.mark.parametrize("status", [400, 401])
def test_wrong_password_is_not_authorized(clock: Clock, status: int) -> None:
    with OnvifPeer(clock=clock, auth_fault_status=status) as cam:
        url = cam.url
        wrong = post(url, "<tds:GetDeviceInformation/>", Token(cam.username, "guess"))
        missing = post(url, "<tds:GetDeviceInformation/>", None)
        other_user = post(url, "<tds:GetDeviceInformation/>", Token("root", cam.password))
        for reply in (wrong, missing, other_user):
            assert reply.status_code == status
            assert fault_of(reply) == ["env:Sender", "ter:NotAuthorized"]
            assert b"Sender not Authorized" in reply.content
        assert cam.auth_failures == 3


def test_replayed_nonce_is_rejected(nvr: OnvifPeer) -> None:
    token = Token(nvr.username, nvr.password)
    assert post(nvr.url, "<tds:GetDeviceInformation/>", token).status_code == 200
    replay = post(nvr.url, "<tds:GetDeviceInformation/>", token)
    assert fault_of(replay) == ["env:Sender", "ter:NotAuthorized"]


def test_password_text_is_accepted(nvr: OnvifPeer) -> None:
    kind = "oasis-200401-wss-username-token-profile-1.0#PasswordText"
    header = (
        f"<wsse:Security><wsse:UsernameToken><wsse:Username>{nvr.username}</wsse:Username>"
        f'<wsse:Password Type="{kind}">{nvr.password}</wsse:Password>'
        "</wsse:UsernameToken></wsse:Security>"
    )
    envelope = request("<tds:GetDeviceInformation/>").replace(
        b"<env:Body>", f"<env:Header>{header}</env:Header><env:Body>".encode()
    )
    reply = _http.post(nvr.url, content=envelope)
    assert reply.status_code == 200, reply.text


def test_lockout_after_repeated_failures(clock: Clock) -> None:
    with OnvifPeer(clock=clock, lockout_after=3, lockout_seconds=600) as cam:
        for _ in range(3):
            post(cam.url, "<tds:GetDeviceInformation/>", Token(cam.username, "guess"))
        right = Token(cam.username, cam.password)
        assert post(cam.url, "<tds:GetDeviceInformation/>", right).status_code == 400
        clock.now += 601
        right = Token(cam.username, cam.password)
        assert post(cam.url, "<tds:GetDeviceInformation/>", right).status_code == 200


def test_stale_created_rejected_when_the_peer_checks_it() -> None:
    with OnvifPeer(max_created_skew=300) as cam:
        old = iso(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        stale = post(
            cam.url, "<tds:GetDeviceInformation/>", Token(cam.username, cam.password, created=old)
        )
        assert fault_of(stale) == ["env:Sender", "ter:NotAuthorized"]
        fresh = post(cam.url, "<tds:GetDeviceInformation/>", Token(cam.username, cam.password))
        assert fresh.status_code == 200


def test_services_and_capabilities_follow_the_recording_switch(
    nvr: OnvifPeer, validate: Validator
) -> None:
    services = call(
        nvr,
        "/onvif/device_service",
        "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>",
        validate,
    )
    namespaces = [e.text for e in services.iterfind("tds:Service/tds:Namespace", NS)]
    assert namespaces == [NS["tds"], NS["trt"], NS["tev"], NS["trc"]]
    body = "<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>"
    caps = call(nvr, "/onvif/device_service", body, validate)
    assert text(caps, "tds:Capabilities/tt:Extension/tt:Recording/tt:XAddr").endswith(
        RECORDING_PATH
    )
    assert text(caps, "tds:Capabilities/tt:Events/tt:WSPullPointSupport") == "true"

    nvr.recording_supported = False
    services = call(
        nvr,
        "/onvif/device_service",
        "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>",
        validate,
    )
    assert NS["trc"] not in [e.text for e in services.iterfind("tds:Service/tds:Namespace", NS)]
    caps = call(nvr, "/onvif/device_service", body, validate)
    assert caps.find("tds:Capabilities/tt:Extension", NS) is None
    reply = post(
        nvr.base + RECORDING_PATH, "<trc:GetRecordings/>", Token(nvr.username, nvr.password)
    )
    assert reply.status_code == 500
    assert fault_of(reply) == ["env:Receiver", "ter:ActionNotSupported"]


def test_media_profiles_and_stream_uri(nvr: OnvifPeer, validate: Validator) -> None:
    profiles = call(nvr, MEDIA_PATH, "<trt:GetProfiles/>", validate)
    tokens = [p.get("token") for p in profiles.iterfind("trt:Profiles", NS)]
    assert tokens == ["Profile_1", "Profile_2"]
    body = (
        "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>"
        "<tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>"
        "<trt:ProfileToken>Profile_1</trt:ProfileToken></trt:GetStreamUri>"
    )
    uri = call(nvr, MEDIA_PATH, body, validate)
    assert text(uri, "trt:MediaUri/tt:Uri") == "rtsp://127.0.0.1:8554/test"


def test_recording_jobs_and_their_state(nvr: OnvifPeer, validate: Validator) -> None:
    recordings = call(nvr, RECORDING_PATH, "<trc:GetRecordings/>", validate)
    assert len(recordings.findall("trc:RecordingItem", NS)) == 3
    jobs = call(nvr, RECORDING_PATH, "<trc:GetRecordingJobs/>", validate)
    tokens = [e.text for e in jobs.iterfind("trc:JobItem/tt:JobToken", NS)]
    assert tokens == ["RecordingJob_1", "RecordingJob_2", "RecordingJob_3"]

    nvr.set_channel(2, state="Error", error="HDD 1 failed")
    nvr.set_channel(3, state="Idle")

    def state(job: str) -> tuple[str, str | None]:
        body = f"<trc:GetRecordingJobState><trc:JobToken>{job}</trc:JobToken></trc:GetRecordingJobState>"
        answer = call(nvr, RECORDING_PATH, body, validate)
        track = answer.find("trc:State/tt:Sources/tt:Tracks/tt:Track", NS)
        return text(answer, "trc:State/tt:State"), track.findtext("tt:Error", None, NS)

    assert [state(t) for t in tokens] == [
        ("Active", None),
        ("Error", "HDD 1 failed"),
        ("Idle", None),
    ]
    unknown = (
        "<trc:GetRecordingJobState><trc:JobToken>nope</trc:JobToken></trc:GetRecordingJobState>"
    )
    reply = post(nvr.base + RECORDING_PATH, unknown, Token(nvr.username, nvr.password))
    assert fault_of(reply) == ["env:Sender", "ter:InvalidArgVal", "ter:NoRecordingJob"]


def _subscribe(nvr: OnvifPeer, validate: Validator, initial: str = "PT60S") -> str:
    body = (
        "<tev:CreatePullPointSubscription><tev:InitialTerminationTime>"
        f"{initial}</tev:InitialTerminationTime></tev:CreatePullPointSubscription>"
    )
    answer = call(nvr, EVENTS_PATH, body, validate)
    address = text(answer, "tev:SubscriptionReference/wsa:Address")
    return address.removeprefix(nvr.base)


def _pull(
    nvr: OnvifPeer, path: str, validate: Validator, timeout: str = "PT0S", limit: int = 100
) -> list[tuple[str, str, dict[str, str]]]:
    body = (
        f"<tev:PullMessages><tev:Timeout>{timeout}</tev:Timeout>"
        f"<tev:MessageLimit>{limit}</tev:MessageLimit></tev:PullMessages>"
    )
    answer = call(nvr, path, body, validate)
    found = []
    for note in answer.iterfind("wsnt:NotificationMessage", NS):
        message = note.find("wsnt:Message/tt:Message", NS)
        items = {i.get("Name"): i.get("Value") for i in message.iterfind("tt:*/tt:SimpleItem", NS)}
        found.append((text(note, "wsnt:Topic"), message.get("PropertyOperation"), items))
    return found


def test_pullpoint_delivers_initial_states_then_changes(
    nvr: OnvifPeer, clock: Clock, validate: Validator
) -> None:
    path = _subscribe(nvr, validate)
    initial = _pull(nvr, path, validate)
    assert {op for _, op, _ in initial} == {"Initialized"}
    assert sorted({t for t, _, _ in initial}) == sorted(
        {TAMPER, VIDEO_LOSS, STORAGE_FAILURE, JOB_STATE}
    )
    assert len(initial) == 3 * 3 + 1
    assert _pull(nvr, path, validate) == []

    nvr.video_loss("Profile_2", lost=True)
    nvr.tamper("Profile_1", active=True)
    nvr.storage_failure("Storage_1", failed=True)
    nvr.set_channel(1, state="Error")
    assert _pull(nvr, path, validate, limit=3) == [
        (VIDEO_LOSS, "Changed", {"Source": "Profile_2", "State": "true"}),
        (TAMPER, "Changed", {"Source": "Profile_1", "State": "true"}),
        (STORAGE_FAILURE, "Changed", {"Token": "Storage_1", "Failed": "true"}),
    ]
    assert _pull(nvr, path, validate) == [
        (JOB_STATE, "Changed", {"RecordingJobToken": "RecordingJob_1", "State": "Error"})
    ]


def test_pull_waits_for_a_notification(nvr: OnvifPeer, validate: Validator) -> None:
    path = _subscribe(nvr, validate)
    _pull(nvr, path, validate)
    pusher = threading.Timer(0.2, nvr.storage_failure, args=("Storage_1", True))
    pusher.start()
    try:
        got = _pull(nvr, path, validate, timeout="PT10S")
    finally:
        pusher.join()
    assert got == [(STORAGE_FAILURE, "Changed", {"Token": "Storage_1", "Failed": "true"})]


def test_renew_unsubscribe_and_expiry(nvr: OnvifPeer, clock: Clock, validate: Validator) -> None:
    path = _subscribe(nvr, validate, initial="PT60S")
    body = "<wsnt:Renew><wsnt:TerminationTime>PT120S</wsnt:TerminationTime></wsnt:Renew>"
    renewed = call(nvr, path, body, validate)
    until = dt.datetime.fromisoformat(text(renewed, "wsnt:TerminationTime"))
    assert until.timestamp() == clock.now + 120
    call(nvr, path, "<tev:SetSynchronizationPoint/>", validate)
    assert len(_pull(nvr, path, validate)) == 2 * (3 * 3 + 1)  # initial + synchronization
    clock.now += 121
    expired = post(
        nvr.base + path,
        "<tev:PullMessages><tev:Timeout>PT0S</tev:Timeout><tev:MessageLimit>1</tev:MessageLimit></tev:PullMessages>",
        Token(nvr.username, nvr.password),
    )
    assert fault_of(expired) == ["env:Sender", "ter:InvalidArgVal"]

    path = _subscribe(nvr, validate)
    assert nvr.subscriptions == 1  # the expired one is gone
    call(nvr, path, "<wsnt:Unsubscribe/>", validate)
    assert nvr.subscriptions == 0
    gone = post(nvr.base + path, "<wsnt:Unsubscribe/>", Token(nvr.username, nvr.password))
    assert fault_of(gone) == ["env:Sender", "ter:InvalidArgVal"]


def test_malformed_requests(nvr: OnvifPeer) -> None:
    broken = _http.post(nvr.url, content=b"<env:Envelope")
    assert broken.status_code == 400
    assert fault_of(broken) == ["env:Sender", "ter:WellFormed"]
    soap11 = b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body/></Envelope>'
    assert fault_of(_http.post(nvr.url, content=soap11)) == ["env:VersionMismatch"]
    unknown = post(nvr.url, "<tds:Reboot/>", Token(nvr.username, nvr.password))
    assert fault_of(unknown) == ["env:Receiver", "ter:ActionNotSupported"]


async def test_onvif_zeep_async_reads_every_answer(clock: Clock) -> None:
    # A second, independent reader of the wire format: the client library Home Assistant uses.
    onvif = pytest.importorskip("onvif")
    with OnvifPeer(channels=2, clock=clock) as nvr:
        nvr.set_channel(2, state="Error", error="HDD 1 failed")
        cam = onvif.ONVIFCamera("127.0.0.1", nvr.port, nvr.username, nvr.password)
        try:
            await cam.update_xaddrs()
            device = await cam.create_devicemgmt_service()
            assert (await device.GetDeviceInformation()).SerialNumber == nvr.info.serial
            recording = await cam.create_onvif_service("recording")
            state = await recording.GetRecordingJobState({"JobToken": "RecordingJob_2"})
            assert (state.State, state.Sources[0].Tracks.Track[0].Error) == (
                "Error",
                "HDD 1 failed",
            )
            manager = await cam.create_pullpoint_manager(dt.timedelta(seconds=60), lambda: None)
            pullpoint = manager.get_service()
            request = {"MessageLimit": 50, "Timeout": dt.timedelta(seconds=0)}
            assert len((await pullpoint.PullMessages(request)).NotificationMessage) == 7
            nvr.video_loss("Profile_1", lost=True)
            (message,) = (await pullpoint.PullMessages(request)).NotificationMessage
            assert message.Topic._value_1 == VIDEO_LOSS
            assert message.Message._value_1.Data.SimpleItem[0].Value == "true"
            await manager.shutdown()
        finally:
            await cam.close()
    assert nvr.calls[-1] == "Unsubscribe"
    assert nvr.auth_failures == 0


async def test_a_drifted_peer_that_checks_created_needs_time_adjustment() -> None:
    """Cameras that check wsu:Created reject a client that ignores their clock's drift."""
    onvif = pytest.importorskip("onvif")
    with OnvifPeer(clock_offset=600, max_created_skew=300) as cam_peer:
        for adjust, expected_failures in ((False, 1), (True, 0)):
            cam = onvif.ONVIFCamera(
                "127.0.0.1", cam_peer.port, cam_peer.username, cam_peer.password, adjust_time=adjust
            )
            before = cam_peer.auth_failures
            try:
                await cam.update_xaddrs()
            except Exception as exc:  # noqa: BLE001 - zeep's Fault, whatever its import path
                assert "not Authorized" in str(exc)
            finally:
                await cam.close()
            assert min(cam_peer.auth_failures - before, 1) == expected_failures


async def test_every_request_monitord_sends_is_valid_by_the_schemas(
    validate: Validator, clock: Clock
) -> None:
    """monitord writes its SOAP by hand: each request it sends must be what the WSDLs say."""
    with OnvifPeer(channels=2, clock=clock) as nvr:
        client = OnvifClient()
        target = OnvifTarget(
            "127.0.0.1", nvr.port, username=nvr.username, password=SecretStr(nvr.password)
        )
        device = client.device(target, lambda: dt.datetime.fromtimestamp(clock(), dt.UTC))
        try:
            await device.read_clock()
            await device.discover()
            await device.identity()
            await device.call("devicemgmt", NS_DEVICE, "GetCapabilities", {"Category": "All"})
            await device.call("devicemgmt", NS_DEVICE, "GetNetworkInterfaces")
            assert (await device.stream_profiles())[0].uri == nvr.stream_uri
            assert len(await onvif_recording.channels(device)) == 2
            pullpoint = PullPoint(device)
            assert await pullpoint.pull(0) != []  # the initial properties
            await pullpoint._renew()
            await pullpoint.close()
        finally:
            await client.close()
    sent = set()
    for body in nvr.bodies:
        element = etree.fromstring(body).find(f"{{{NS['env']}}}Body")[0]
        validate(element)
        sent.add(etree.QName(element).localname)
    assert sent == set(onvif_soap.OPERATIONS)
    assert nvr.auth_failures == 0
