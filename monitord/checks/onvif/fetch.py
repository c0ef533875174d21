"""One ONVIF check of one device: what was read, and the call that stopped it, if any.

Order matters: the clock first (unsigned where allowed; it also tells us how to sign),
then service discovery and identity when due, then the stream (its URI cached between
identity reads), then recordings. The first
failure of the device's own ONVIF service ends the check: after rejected credentials no
further signed call is made (accounts lock after a few failures).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from monitord.checks.onvif import recording as onvif_recording
from monitord.checks.onvif.client import ClockReading, Identity, OnvifDevice, StreamProfile
from monitord.checks.onvif.errors import OnvifError
from monitord.checks.onvif.recording import ChannelRecording
from monitord.checks.rtsp.client import StreamCheck

# (uri, username, password, seconds, allow_basic)
StreamChecker = Callable[[str, str | None, str | None, float, bool], Awaitable[StreamCheck]]


@dataclass(frozen=True, slots=True)
class CheckResult:
    error: OnvifError | None = None  # the ONVIF failure that ended the check early
    clock: ClockReading | None = None
    identity: Identity | None = None
    profile: StreamProfile | None = None
    stream: StreamCheck | None = None
    stream_error: OnvifError | None = None  # GetProfiles/GetStreamUri failed
    recordings: tuple[ChannelRecording, ...] | None = None
    recording_error: OnvifError | None = None
    refused: tuple[tuple[str, str], ...] = ()  # (what, host) the device sent us to, not followed


@dataclass(frozen=True, slots=True)
class Plan:
    identity: bool
    stream: bool
    recording: bool


async def run(device: OnvifDevice, plan: Plan, stream_check: StreamChecker) -> CheckResult:
    try:
        clock = await device.read_clock()
        if not device.discovered:
            await device.discover()
        identity = await device.identity() if plan.identity else None
    except OnvifError as exc:
        return CheckResult(error=exc, refused=tuple(sorted(device.refused.items())))
    result = CheckResult(clock=clock, identity=identity)
    if plan.stream:
        result = await _stream(device, result, stream_check, refresh=plan.identity)
    if plan.recording:
        try:
            found = tuple(await onvif_recording.channels(device))
        except OnvifError as exc:
            return replace(result, recording_error=exc)
        result = replace(result, recordings=found)
    return replace(result, refused=tuple(sorted(device.refused.items())))


async def _stream(
    device: OnvifDevice, result: CheckResult, stream_check: StreamChecker, refresh: bool
) -> CheckResult:
    try:
        # The stream URI changes only with the configuration: read it with the identity.
        profiles = device.profiles
        if refresh or not profiles:
            profiles = await device.stream_profiles(limit=1)
    except OnvifError as exc:
        return replace(result, stream_error=exc)
    if not profiles:
        return replace(result, profile=None)
    try:
        device.permit(profiles[0].uri, "stream")  # the camera's URI: our password goes there
    except OnvifError as exc:
        return replace(result, profile=profiles[0], stream_error=exc)
    t = device.target
    password = t.password.get_secret_value() if t.password else None
    checked = await stream_check(profiles[0].uri, t.username, password, t.timeout, t.allow_basic)
    return replace(result, profile=profiles[0], stream=checked)
