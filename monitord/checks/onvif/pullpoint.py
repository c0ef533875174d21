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
from typing import Any, Final

from lxml import etree

from monitord.checks.onvif.client import NS_EVENTS, OnvifDevice
from monitord.checks.onvif.errors import OnvifError, Reason

_TT: Final = "{http://www.onvif.org/ver10/schema}"
_TERMINATION: Final = dt.timedelta(seconds=300)
_RELATIVE: Final = "PT300S"  # AbsoluteOrRelativeTimeType is a string union for zeep
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
        address = getattr(getattr(got.SubscriptionReference, "Address", None), "_value_1", None)
        if not address:
            raise OnvifError(Reason.BAD_RESPONSE, "CreatePullPointSubscription: no address")
        self.address, self.until = str(address), _time(getattr(got, "TerminationTime", None))

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
        self.until = _time(getattr(got, "TerminationTime", None)) or self.until
        current = _time(getattr(got, "CurrentTime", None))
        if self.until and current and self.until - current < _TERMINATION / 2:
            await self._renew()
        return [
            e for m in list(getattr(got, "NotificationMessage", None) or []) if (e := _event(m))
        ]

    async def _renew(self) -> None:
        got = await self.device.call(
            "subscription", NS_EVENTS, "Renew", {"TerminationTime": _RELATIVE},
            address=self.address,
        )  # fmt: skip
        self.until = _time(getattr(got, "TerminationTime", None)) or self.until

    async def close(self) -> None:
        if self.address is None:
            return
        address, self.address = self.address, None
        with contextlib.suppress(OnvifError):  # it expires on the device by itself
            await self.device.call("subscription", NS_EVENTS, "Unsubscribe", address=address)


def _event(message: Any) -> Event | None:
    topic = str(getattr(getattr(message, "Topic", None), "_value_1", "") or "").strip()
    kind = classify(topic)
    body = getattr(getattr(message, "Message", None), "_value_1", None)
    if kind is None or body is None:
        return None
    source, data = _items(body, "Source"), _items(body, "Data")
    problem = any(data.get(k, "").lower() in _TRUE for k in _PROBLEM_KEYS)
    if kind == "recording_job":
        problem = data.get("State", "") not in ("Active", "")
    shown = ",".join(f"{k}={v}" for k, v in list(source.items())[:3])[:120]
    operation = (
        body.get("PropertyOperation", "")
        if isinstance(body, etree._Element)
        else getattr(body, "PropertyOperation", "")
    )
    return Event(kind, topic[:120], shown, problem, str(operation or ""))


def _items(message: Any, part: str) -> dict[str, str]:
    """SimpleItems of tt:Message's Source or Data: a zeep object when the schema is known,
    a raw element when the device used its own."""
    if isinstance(message, etree._Element):
        node = message.find(f"{_TT}{part}")
        found = (
            []
            if node is None
            else [(i.get("Name"), i.get("Value")) for i in node.iter(f"{_TT}SimpleItem")]
        )
    else:
        items = getattr(getattr(message, part, None), "SimpleItem", None) or []
        found = [(getattr(i, "Name", ""), getattr(i, "Value", "")) for i in items]
    return {str(k or "")[:64]: str(v or "")[:64] for k, v in found[:16]}


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None
