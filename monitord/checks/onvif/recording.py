"""ONVIF Profile G: is every NVR channel that should record actually recording?

GetRecordings lists the channels (recordings), GetRecordingJobs says which job writes each
and whether it is meant to run (Mode Active), GetRecordingJobState says whether it does.
A device without the recording service raises OnvifError(NOT_SUPPORTED): say so, never
guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from monitord.checks.onvif.client import NS_RECORDING, OnvifDevice
from monitord.checks.onvif.errors import OnvifError, Reason

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
    by_recording: dict[str, Any] = {}
    for job in list(jobs or [])[:MAX_CHANNELS]:
        config = job.JobConfiguration
        # An Active job wins over an Idle one writing the same recording.
        known = by_recording.get(str(config.RecordingToken))
        if known is None or str(config.Mode) == "Active":
            by_recording[str(config.RecordingToken)] = job
    out: list[ChannelRecording] = []
    for item in list(recordings or [])[:MAX_CHANNELS]:
        token = str(item.RecordingToken)
        source = getattr(getattr(item, "Configuration", None), "Source", None)
        name = str(getattr(source, "Name", "") or token)[:64]
        job = by_recording.get(token)
        if job is None:
            out.append(ChannelRecording(token, name, None, None, None, ""))
            continue
        got = await device.call(
            "recording", NS_RECORDING, "GetRecordingJobState", {"JobToken": job.JobToken}
        )
        out.append(
            ChannelRecording(
                token, name, str(job.JobToken), str(job.JobConfiguration.Mode),
                str(got.State), _first_error(got),
            )
        )  # fmt: skip
    return out


def _first_error(state: Any) -> str:
    for source in getattr(state, "Sources", None) or []:
        for track in getattr(getattr(source, "Tracks", None), "Track", None) or []:
            error = getattr(track, "Error", None)
            if error:
                return str(error)[:120]
    return ""
