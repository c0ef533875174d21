"""ONVIF events through a PullPoint subscription: the health topics that should make us
look at a device at once (tamper, video loss, storage failure, recording job state).

The subscription lives on the device; `PullPoint` creates it, long-polls PullMessages,
renews it before it ends and recreates it when the device forgot it (a reboot).
Motion and other analytics events are read and dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Final

from lxml import etree

from monitord.checks.onvif.client import NS_EVENTS, OnvifDevice
from monitord.checks.onvif.errors import OnvifError, Reason
from monitord.checks.onvif.xml import child, children, text

_TERMINATION: Final = dt.timedelta(seconds=300)
_RELATIVE: Final = "PT300S"  # an xs:duration: devices' clocks are not ours
_MAX_MESSAGES: Final = 32
# Topic suffixes (the tns1: prefix varies) of the events that matter for health.
KINDS: Final = {
    "VideoSource/GlobalSceneChange/ImagingService": "tamper",
    "VideoSource/GlobalSceneChange/AnalyticsService": "tamper",
    "RuleEngine/TamperDetector/Tamper": "tamper",
    "VideoSource/SignalLoss": "video_loss",
    "Device/HardwareFailure/StorageFailure": "storage_failure",
    "RecordingConfig/JobState": "recording_job",
    "Device/HardwareFailure/FanFailure": "hardware",
    "Device/HardwareFailure/PowerSupplyFailure": "hardware",
    "Device/HardwareFailure/TemperatureCritical": "hardware",
}
_TRUE: Final = {"true", "1"}
_PROBLEM_KEYS: Final = ("State", "IsTamper", "Failed", "Failure", "SignalLoss")


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # a value of KINDS
    topic: str
    source: str  # "Token=Profile_3", for people and logs
    problem: bool  # the event says something is wrong (not that it recovered)
    operation: str  # "Initialized", "Changed", "Deleted"


def classify(topic: str) -> str | None:
    bare = topic.split(":", 1)[-1] if ":" in topic.split("/", 1)[0] else topic
    return KINDS.get(bare)


class PullPoint:
    def __init__(self, device: OnvifDevice) -> None:
        self.device = device
        self.address: str | None = None
        self.until: dt.datetime | None = None

    async def open(self) -> None:
        if NS_EVENTS not in self.device.xaddrs:
            raise OnvifError(Reason.NOT_SUPPORTED, "the device offers no events service")
        got = await self.device.call(
            "events", NS_EVENTS, "CreatePullPointSubscription",
            {"InitialTerminationTime": _RELATIVE},
        )  # fmt: skip
        address = text(got, "SubscriptionReference", "Address")
        if not address:
            raise OnvifError(Reason.BAD_RESPONSE, "CreatePullPointSubscription: no address")
        self.address, self.until = address, _time(text(got, "TerminationTime"))

    async def pull(self, wait: float) -> list[Event]:
        """Events queued on the device, waiting up to `wait` seconds for the first one."""
        if self.address is None:
            await self.open()
        assert self.address is not None
        try:
            got = await self.device.call(
                "pullpoint", NS_EVENTS, "PullMessages",
                {"Timeout": dt.timedelta(seconds=wait), "MessageLimit": _MAX_MESSAGES},
                address=self.address, seconds=wait + self.device.target.timeout, long_poll=True,
            )  # fmt: skip
        except OnvifError as exc:
            if exc.reason in (Reason.FAULT, Reason.NOT_SUPPORTED):
                self.address = None  # the device forgot us (reboot, expiry): subscribe again
            raise
        self.until = _time(text(got, "TerminationTime")) or self.until
        current = _time(text(got, "CurrentTime"))
        if self.until and current and self.until - current < _TERMINATION / 2:
            await self._renew()
        messages = children(got, "NotificationMessage")[:_MAX_MESSAGES]
        return [e for m in messages if (e := _event(m))]

    async def _renew(self) -> None:
        got = await self.device.call(
            "subscription", NS_EVENTS, "Renew", {"TerminationTime": _RELATIVE},
            address=self.address,
        )  # fmt: skip
        self.until = _time(text(got, "TerminationTime")) or self.until

    async def close(self) -> None:
        if self.address is None:
            return
        address, self.address = self.address, None
        with contextlib.suppress(OnvifError):  # it expires on the device by itself
            await self.device.call("subscription", NS_EVENTS, "Unsubscribe", address=address)


def _event(message: etree._Element) -> Event | None:
    topic = text(message, "Topic") or ""
    kind = classify(topic)
    body = child(message, "Message", "Message")  # wsnt:Message holding a tt:Message
    if kind is None or body is None:
        return None
    source, data = _items(body, "Source"), _items(body, "Data")
    problem = any(data.get(k, "").lower() in _TRUE for k in _PROBLEM_KEYS)
    if kind == "recording_job":
        problem = data.get("State", "") not in ("Active", "")
    shown = ",".join(f"{k}={v}" for k, v in list(source.items())[:3])[:120]
    operation = (body.get("PropertyOperation") or "")[:32]
    return Event(kind, topic[:120], shown, problem, operation)


def _items(message: etree._Element, part: str) -> dict[str, str]:
    """The SimpleItems of tt:Message's Source or Data."""
    found = [(i.get("Name"), i.get("Value")) for i in children(child(message, part), "SimpleItem")]
    return {str(k or "")[:64]: str(v or "")[:64] for k, v in found[:16]}


def _time(value: str | None) -> dt.datetime | None:
    """An xs:dateTime; without a zone it is UTC (what cameras mean)."""
    try:
        moment = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
