"""From one ONVIF check to findings, each check with a stable name:

- "onvif": does the device's ONVIF service answer sanely (a hostile or broken answer is a
  WARNING naming why; ping covers "is it on").
- "onvif_auth": are our credentials accepted. Rejected credentials are their own finding,
  never an outage: the device answered.
- "clock": drift against our clock, with the configured thresholds.
- "stream": can the camera serve video (RTSP DESCRIBE of its first profile's stream).
- "recording" (UNKNOWN "not supported" without Profile G) or "recording:<token>" per
  NVR channel: CRITICAL when a job meant to record does not.
- "event:<kind>:<source>": the last health event the device pushed (tamper, video loss,
  storage failure), until it says the condition ended.
- "addresses": WARNING naming each host the device sent us to that we did not follow
  (config/addresses.py; nothing was sent there), OK once none is left.
A check that could not be made this time is left out, so its last state stands.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Final

from monitord.checks.onvif.errors import Reason
from monitord.checks.onvif.fetch import CheckResult
from monitord.checks.onvif.pullpoint import Event
from monitord.checks.onvif.recording import ChannelRecording
from monitord.config.onvif import OnvifSettings
from monitord.health.finding_text import addresses
from monitord.health.findings import Finding, FindingValue, Status, shared

_RECORDING: Final = {"Active": Status.OK, "PartiallyActive": Status.WARNING}


def findings(
    device_id: str,
    settings: OnvifSettings,
    result: CheckResult,
    events: Mapping[str, Event] | None = None,
) -> list[Finding]:
    out: list[Finding] = []

    def add(check: str, status: Status, summary: str, **values: FindingValue) -> None:
        out.append(_finding(device_id, check, status, summary, **values))

    err = result.error
    if err is not None and err.reason == Reason.AUTH_REJECTED:
        add("onvif_auth", Status.WARNING, "ONVIF credentials rejected", reason=err.reason.value)
        return out
    if err is not None:
        add("onvif", Status.WARNING, f"ONVIF: {err.detail}", reason=err.reason.value)
        if result.refused:
            out.append(_refused(device_id, result))
        return out
    add("onvif", Status.OK, "ONVIF answers")
    add("onvif_auth", Status.OK, "ONVIF credentials accepted")
    out.append(_refused(device_id, result))
    if result.clock is not None:
        drift = result.clock.drift
        off = abs(drift)
        status = (
            Status.CRITICAL
            if off >= settings.drift_critical_s
            else Status.WARNING
            if off >= settings.drift_warning_s
            else Status.OK
        )
        side = "ahead" if drift > 0 else "behind"
        add("clock", status, f"clock {off:.0f} s {side}", drift_s=round(drift, 1))
    out.extend(_stream(device_id, result))
    if result.recording_error is not None:
        e = result.recording_error
        if e.reason == Reason.NOT_SUPPORTED:
            add("recording", Status.UNKNOWN, "recording state: not supported (no Profile G)")
        else:
            add("recording", Status.UNKNOWN, f"recording state: {e.detail}", reason=e.reason.value)
    elif result.recordings is not None:
        out.extend(_channels(device_id, result.recordings))
    for key, event in (events or {}).items():
        status = Status.CRITICAL if event.problem else Status.OK
        word = "reported" if event.problem else "cleared"
        add(f"event:{key}", status, f"{event.kind.replace('_', ' ')} {word} ({event.source})")
    return out


def _finding(
    device_id: str, check: str, status: Status, summary: str, **values: FindingValue
) -> Finding:
    # Every camera's latest findings are kept (health/findings.py): the summaries and values
    # of most are alike, so alike ones are one object (~1 kB per camera at fleet size).
    return Finding(device_id, check, status, sys.intern(summary), shared(**values))


def _refused(device_id: str, result: CheckResult) -> Finding:
    hosts = ", ".join(f"{what} -> {host}" for what, host in result.refused)[:300]
    status = Status.WARNING if hosts else Status.OK
    return _finding(device_id, "addresses", status, addresses({"hosts": hosts}, "en"), hosts=hosts)


def _stream(device_id: str, result: CheckResult) -> list[Finding]:
    if result.stream_error is not None:
        e = result.stream_error
        if e.reason == Reason.ADDRESS_REFUSED:  # the "addresses" finding names the host
            summary = f"stream not checked: {e.detail}"
            return [_finding(device_id, "stream", Status.UNKNOWN, summary, reason=e.reason.value)]
        summary = f"no stream URI: {e.detail}"
        return [_finding(device_id, "stream", Status.CRITICAL, summary, reason=e.reason.value)]
    s = result.stream
    if s is None:
        return []
    if s.ok:
        summary = f"streaming ({', '.join(s.media)})"
        return [_finding(device_id, "stream", Status.OK, summary, up=1, reason=s.reason)]
    summary = f"cannot stream: {s.reason}: {s.detail}"
    return [_finding(device_id, "stream", Status.CRITICAL, summary, up=0, reason=s.reason)]


def _channels(device_id: str, channels: Iterable[ChannelRecording]) -> list[Finding]:
    out = []
    for c in channels:
        values: dict[str, float | str] = {"state": c.state or "none", "name": c.name}
        if not c.should_record:
            status, summary = Status.OK, f"{c.name}: not scheduled to record"
            values["recording"] = int(c.state in _RECORDING)
        else:
            status = _RECORDING.get(c.state or "", Status.CRITICAL)
            summary = f"{c.name}: recording {c.state}"
            if c.error:
                summary += f" ({c.error})"
            values["recording"] = int(status != Status.CRITICAL)
        check = f"recording:{c.recording[:48]}"
        out.append(_finding(device_id, check, status, summary, **values))
    return out
