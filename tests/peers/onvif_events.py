"""PullPoint event subscriptions of the ONVIF test peer (ONVIF Event service, WS-BaseNotification).

Device state is kept as properties (topic + source -> latest data): a new subscription, and a
SetSynchronizationPoint, first get every property as "Initialized", then each change as
"Changed", as real cameras do.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tests.peers import onvif_docs as docs
from tests.peers.onvif_docs import NOT_SUPPORTED, NS, Notification, SoapFault

TAMPER = "tns1:VideoSource/GlobalSceneChange/ImagingService"
VIDEO_LOSS = "tns1:VideoSource/SignalLoss"
STORAGE_FAILURE = "tns1:Device/HardwareFailure/StorageFailure"
JOB_STATE = "tns1:RecordingConfig/JobState"
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")
_WSN = "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager"


def parse_duration(text: str) -> float | None:
    match = _DURATION.fullmatch(text.strip())
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def parse_time(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass
class _Subscription:
    until: dt.datetime
    queue: deque[Notification] = field(default_factory=deque)


class PullPoints:
    """Every subscription of one peer; `cond` is the peer's lock, `now` its (drifting) clock."""

    def __init__(
        self, cond: threading.Condition, now: Callable[[], dt.datetime], max_wait: float
    ) -> None:
        self._cond, self.now, self.max_wait = cond, now, max_wait
        self._properties: dict[tuple[str, str], Notification] = {}
        self._subscriptions: dict[int, _Subscription] = {}
        self._next = 1
        self.closing = False

    def set_property(
        self, topic: str, source: dict[str, str], data: dict[str, str], announce: bool
    ) -> None:
        with self._cond:
            message = Notification(topic, source, data, self.now())
            self._properties[(topic, repr(sorted(source.items())))] = message
            if announce:
                for sub in self._subscriptions.values():
                    sub.queue.append(message)
                self._cond.notify_all()

    def count(self) -> int:
        with self._cond:
            self._expire()
            return len(self._subscriptions)

    def close(self) -> None:
        with self._cond:
            self.closing = True
            self._cond.notify_all()

    def _initialized(self) -> list[Notification]:
        now = self.now()
        return [replace(m, utc=now, operation="Initialized") for m in self._properties.values()]

    def _termination(self, text: str | None, default: float) -> dt.datetime:
        now = self.now()
        if text:
            seconds = parse_duration(text)
            if seconds is not None:
                return now + dt.timedelta(seconds=seconds)
            moment = parse_time(text)
            if moment is not None:
                return moment
            raise SoapFault(
                400, "env:Sender", ["ter:InvalidArgVal"], f"Invalid termination time {text!r}"
            )
        return now + dt.timedelta(seconds=default)

    def subscribe(self, request: ET.Element, base: str) -> tuple[str, str]:
        until = self._termination(request.findtext("tev:InitialTerminationTime", None, NS), 60)
        with self._cond:
            number = self._next
            self._next += 1
            self._subscriptions[number] = _Subscription(until, deque(self._initialized()))
        address = f"{base}{number}"
        action = f"{NS['tev']}/EventPortType/CreatePullPointSubscriptionResponse"
        return docs.subscription_created(address, self.now(), until), action

    def _expire(self) -> None:
        now = self.now()
        for number in [n for n, sub in self._subscriptions.items() if sub.until < now]:
            del self._subscriptions[number]

    def _live(self, key: str) -> tuple[int, _Subscription]:
        self._expire()
        sub = self._subscriptions.get(int(key)) if key.isdigit() else None
        if sub is None:
            raise SoapFault(
                400, "env:Sender", ["ter:InvalidArgVal"], "Unknown or expired subscription"
            )
        return int(key), sub

    def handle(self, key: str, operation: str, request: ET.Element) -> tuple[str, str]:
        port = f"{NS['tev']}/PullPointSubscription"
        with self._cond:
            number, sub = self._live(key)
            if operation == "PullMessages":
                timeout = parse_duration(request.findtext("tev:Timeout", "PT1S", NS)) or 0.0
                limit = int(request.findtext("tev:MessageLimit", "1", NS).strip() or 1)
                deadline = time.monotonic() + min(timeout, self.max_wait)
                while not sub.queue and not self.closing:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                messages = [sub.queue.popleft() for _ in range(min(limit, len(sub.queue)))]
                return docs.pulled(self.now(), sub.until, messages), f"{port}/PullMessagesResponse"
            if operation == "Renew":
                text = request.findtext("wsnt:TerminationTime", None, NS)
                sub.until = self._termination(text, 60)
                action = f"{_WSN}/RenewResponse"
                return docs.renewed(self.now(), sub.until), action
            if operation == "Unsubscribe":
                del self._subscriptions[number]
                action = f"{_WSN}/UnsubscribeResponse"
                return docs.UNSUBSCRIBED, action
            if operation == "SetSynchronizationPoint":
                sub.queue.extend(self._initialized())
                self._cond.notify_all()
                return docs.SYNCHRONIZED, f"{port}/SetSynchronizationPointResponse"
        raise SoapFault(500, *NOT_SUPPORTED)
