"""ONVIF findings from one check: each condition its own check, thresholds respected."""

from __future__ import annotations

import datetime as dt

from monitord.checks.onvif.client import ClockReading
from monitord.checks.onvif.errors import OnvifError, Reason
from monitord.checks.onvif.evaluate import findings
from monitord.checks.onvif.fetch import CheckResult
from monitord.checks.onvif.pullpoint import Event
from monitord.checks.onvif.recording import ChannelRecording
from monitord.checks.rtsp.client import StreamCheck
from monitord.config.onvif import OnvifSettings
from monitord.health.findings import Status

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
S = OnvifSettings(drift_warning_s=10, drift_critical_s=300)


def by_check(
    result: CheckResult, events: dict[str, Event] | None = None
) -> dict[str, tuple[Status, str]]:
    return {f.check: (f.status, f.summary) for f in findings("d", S, result, events)}


def clock(drift: float) -> ClockReading:
    return ClockReading(T0 + dt.timedelta(seconds=drift), T0, True)


def test_clock_thresholds() -> None:
    assert by_check(CheckResult(clock=clock(9.9)))["clock"][0] == Status.OK
    assert by_check(CheckResult(clock=clock(-10)))["clock"] == (Status.WARNING, "clock 10 s behind")
    assert by_check(CheckResult(clock=clock(301)))["clock"] == (
        Status.CRITICAL,
        "clock 301 s ahead",
    )


def test_rejected_credentials_are_their_own_finding_only() -> None:
    result = CheckResult(error=OnvifError(Reason.AUTH_REJECTED, "credentials rejected"))
    assert by_check(result) == {"onvif_auth": (Status.WARNING, "ONVIF credentials rejected")}


def test_a_broken_answer_is_a_warning_naming_why() -> None:
    result = CheckResult(error=OnvifError(Reason.FORBIDDEN_XML, "the answer declares a DTD"))
    assert by_check(result) == {"onvif": (Status.WARNING, "ONVIF: the answer declares a DTD")}


def test_stream() -> None:
    up = StreamCheck(True, "ok", "ok", 200, ("video/H264",), 0.01)
    down = StreamCheck(False, "refused", "connection refused", None, (), 0.01)
    assert by_check(CheckResult(clock=clock(0), stream=up))["stream"][0] == Status.OK
    status, summary = by_check(CheckResult(clock=clock(0), stream=down))["stream"]
    assert status == Status.CRITICAL and "refused" in summary


def test_recording_channels_and_not_supported() -> None:
    channels = (
        ChannelRecording("R1", "Cam 1", "J1", "Active", "Active", ""),
        ChannelRecording("R2", "Cam 2", "J2", "Active", "Error", "disk full"),
        ChannelRecording("R3", "Cam 3", "J3", "Idle", "Idle", ""),
        ChannelRecording("R4", "Cam 4", "J4", "Active", "PartiallyActive", ""),
    )
    got = by_check(CheckResult(clock=clock(0), recordings=channels))
    assert got["recording:R1"][0] == Status.OK
    assert got["recording:R2"] == (Status.CRITICAL, "Cam 2: recording Error (disk full)")
    assert got["recording:R3"][0] == Status.OK  # not meant to record
    assert got["recording:R4"][0] == Status.WARNING
    unsupported = CheckResult(
        clock=clock(0), recording_error=OnvifError(Reason.NOT_SUPPORTED, "no recording service")
    )
    assert by_check(unsupported)["recording"] == (
        Status.UNKNOWN,
        "recording state: not supported (no Profile G)",
    )


def test_events_become_findings_until_cleared() -> None:
    lost = Event("video_loss", "tns1:VideoSource/SignalLoss", "Source=P1", True, "Changed")
    back = Event("video_loss", "tns1:VideoSource/SignalLoss", "Source=P1", False, "Changed")
    result = CheckResult(clock=clock(0))
    assert by_check(result, events={"video_loss:P1": lost})["event:video_loss:P1"][0] == (
        Status.CRITICAL
    )
    assert by_check(result, events={"video_loss:P1": back})["event:video_loss:P1"][0] == Status.OK


def test_refused_addresses_are_a_warning_naming_each_host_in_both_languages() -> None:
    from monitord.health.finding_text import describe

    refused = (("media", "10.9.9.9"), ("stream", "10.9.9.10"))
    err = OnvifError(Reason.ADDRESS_REFUSED, "stream: not following the device to 10.9.9.10")
    [found] = [
        f
        for f in findings("d", S, CheckResult(refused=refused, stream_error=err))
        if f.check == "addresses"
    ]
    assert found.status == Status.WARNING
    assert "media -> 10.9.9.9, stream -> 10.9.9.10" in found.summary
    zh = describe(found.check, found.values, found.summary, "zh")
    assert "未跟随" in zh and "10.9.9.10" in zh
    assert by_check(CheckResult(refused=refused, stream_error=err))["stream"][0] == Status.UNKNOWN
    assert by_check(CheckResult())["addresses"][0] == Status.OK  # clears once none is left
