"""ONVIF Profile G: is every NVR channel that should record actually recording?

GetRecordings lists the channels (recordings), GetRecordingJobs says which job writes each
and whether it is meant to run (Mode Active), GetRecordingJobState says whether it does.
A device without the recording service raises OnvifError(NOT_SUPPORTED): say so, never
guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lxml import etree

from monitord.checks.onvif.client import NS_RECORDING, OnvifDevice
from monitord.checks.onvif.errors import OnvifError, Reason
from monitord.checks.onvif.xml import child, children, text

MAX_CHANNELS: Final = 256


@dataclass(frozen=True, slots=True)
class ChannelRecording:
    recording: str  # the recording token: the channel's stable name
    name: str  # the source's name ("Camera 3"), for people
    job: str | None  # None: no recording job writes this recording
    mode: str | None  # the job's configured mode: "Active" means it should record
    state: str | None  # "Active", "PartiallyActive", "Idle", "Error"
    error: str  # the first track error the device reported, if any

    @property
    def should_record(self) -> bool:
        return self.mode == "Active"


async def channels(device: OnvifDevice) -> list[ChannelRecording]:
    if NS_RECORDING not in device.xaddrs:
        raise OnvifError(Reason.NOT_SUPPORTED, "no recording service (ONVIF Profile G)")
    recordings = await device.call("recording", NS_RECORDING, "GetRecordings")
    jobs = await device.call("recording", NS_RECORDING, "GetRecordingJobs")
    by_recording: dict[str, tuple[str, str]] = {}  # recording -> (job, mode)
    for job in children(jobs, "JobItem")[:MAX_CHANNELS]:
        recording = _token(text(job, "JobConfiguration", "RecordingToken"))
        mode = _token(text(job, "JobConfiguration", "Mode"))
        # An Active job wins over an Idle one writing the same recording.
        if recording not in by_recording or mode == "Active":
            by_recording[recording] = (_token(text(job, "JobToken")), mode)
    out: list[ChannelRecording] = []
    for item in children(recordings, "RecordingItem")[:MAX_CHANNELS]:
        token = _token(text(item, "RecordingToken"))
        name = (text(item, "Configuration", "Source", "Name") or token)[:64]
        found = by_recording.get(token)
        if found is None:
            out.append(ChannelRecording(token, name, None, None, None, ""))
            continue
        job_token, mode = found
        got = await device.call(
            "recording", NS_RECORDING, "GetRecordingJobState", {"JobToken": job_token}
        )
        state = child(got, "State")
        running = text(state, "State")
        if not running:  # never guess whether a channel records
            raise OnvifError(Reason.BAD_RESPONSE, f"GetRecordingJobState of {job_token}: no State")
        out.append(
            ChannelRecording(token, name, job_token, mode, running[:64], _first_error(state))
        )
    return out


def _token(value: str | None) -> str:
    return (value or "")[:64]


def _first_error(state: etree._Element | None) -> str:
    for source in children(state, "Sources"):
        for track in children(child(source, "Tracks"), "Track"):
            error = text(track, "Error")
            if error:
                return error[:120]
    return ""
