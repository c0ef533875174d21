"""The poller link's JSON wire format, version 1 (docs/pollers.md describes it).

Every body carries `v`; a centre answers a version it does not speak with 400, so an old
centre and a new poller fail loudly instead of misreading each other. Times are ISO 8601
with an offset, always the poller's original instant of the event.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, Tag

from monitord.health.states import State

VERSION: Literal[1] = 1
PREFIX = "/api/poller/v1"
# Compatible extensions of version 1 are negotiated with this header: a poller sends the
# minor version it speaks, a centre answers with the one it uses for this exchange; either
# side without the header is 1.0 and gets exactly the 1.0 bodies.
WIRE = "x-monitord-wire"
MINOR = 3  # 1.1: watches, secrets, long poll, clock; 1.2: commands (sites/commands.py);
# 1.3: rollups (the hourly history gathered at the site) and what the journal's cap dropped
ROLLUPS_MINOR = 3
MAX_ROLLUPS = 2000  # hours of series per push (~150 bytes each: well inside MAX_BODY)
LONG_POLL = 25.0  # seconds a centre holds `GET /config?wait=REVISION` before its 304
MAX_BATCH = 500  # entries per push; a backlog goes up in several pushes, in order
MAX_BODY = 1 << 20  # bytes of one request body


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EnrolIn(_Wire):
    v: Literal[1] = VERSION
    code: str = Field(min_length=8, max_length=64)


class EnrolOut(_Wire):
    v: Literal[1] = VERSION
    poller: str
    sites: tuple[str, ...]
    token: str


class StateEntry(_Wire):
    """One journal entry: a HARD state change confirmed at the site."""

    seq: int = Field(ge=1)
    kind: Literal["state"] = "state"
    device: str = Field(max_length=64)
    at: AwareDatetime
    from_state: State
    to_state: State
    reason: str = Field(max_length=2000)
    observation: dict[str, Any] = {}


class EventEntry(_Wire):
    """A line of the device's operation record written at the site (wire 1.1): a HARD
    finding change ("finding"), a reboot, a trap; the centre writes it as it is."""

    seq: int = Field(ge=1)
    kind: Literal["event"]
    device: str = Field(max_length=64)
    at: AwareDatetime
    event: str = Field(min_length=1, max_length=32)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str | None = Field(default=None, max_length=32)
    reason: str = Field(max_length=2000)
    observation: dict[str, Any] = {}


class FactsEntry(_Wire):
    """What a device says about itself (firmware, vendor...), sent when it changed (1.1)."""

    seq: int = Field(ge=1)
    kind: Literal["facts"]
    device: str = Field(max_length=64)
    at: AwareDatetime
    source: str = Field(min_length=1, max_length=16)
    facts: dict[str, str] = Field(max_length=32)


def _kind(value: Any) -> str:
    # Version 1.0 entries carry no kind: they are state changes.
    if isinstance(value, dict):
        return str(value.get("kind", "state"))
    return str(getattr(value, "kind", "state"))


Entry = Annotated[
    Annotated[StateEntry, Tag("state")]
    | Annotated[EventEntry, Tag("event")]
    | Annotated[FactsEntry, Tag("facts")],
    Discriminator(_kind),
]


class Clock(_Wire):
    """The poller's view of the previous exchange (wire 1.1), NTP-style: it sent that push
    at `t0` and read the answer at `t3` (its clock); the answer said the centre read it at
    `t1` and answered at `t2` (the centre's clock). Offset = ((t1-t0)+(t2-t3))/2."""

    t0: AwareDatetime
    t1: AwareDatetime
    t2: AwareDatetime
    t3: AwareDatetime


class Rollup(_Wire):
    """One finished hour of one series, as the centre keeps its own (store.MetricHour):
    count, sum, min and max of the samples (wire 1.3)."""

    device: str = Field(max_length=64)
    metric: str = Field(min_length=1, max_length=32)
    subject: str = Field(default="", max_length=64)
    hour: int = Field(ge=0)  # hours since the Unix epoch (UTC)
    n: int = Field(ge=1)
    total: float
    low: float
    high: float


class Dropped(_Wire):
    """What the journal's cap has dropped since the journal began (wire 1.3): the oldest
    rollups only, never an entry. Cumulative, so a lost push loses no count."""

    rollups: int = Field(ge=0)
    bytes: int = Field(ge=0)
    oldest_hour: int | None = None  # the span of hours dropped, last time
    newest_hour: int | None = None


class PushIn(_Wire):
    """Entries in sequence order (possibly none: then it is only a heartbeat)."""

    v: Literal[1] = VERSION
    sent_at: AwareDatetime
    version: str = Field(max_length=40)
    entries: tuple[Entry, ...] = Field(default=(), max_length=MAX_BATCH)
    # Wire 1.1 (sent only to a centre that answered with the WIRE header saying 1.1):
    backlog: int | None = Field(default=None, ge=0)  # entries not yet acknowledged
    clock: Clock | None = None
    # Wire 1.3: finished hours, sent only when no entry waits (state changes go first).
    rollups: tuple[Rollup, ...] | None = Field(default=None, max_length=MAX_ROLLUPS)
    dropped: Dropped | None = None


class PushOut(_Wire):
    v: Literal[1] = VERSION
    acked: int  # every entry up to this sequence is applied; the poller may prune them
    revision: str  # of the poller's configuration: fetch /config when it changed
    # Wire 1.1, only to a poller that said it speaks 1.1 (a 1.0 poller forbids extra keys):
    received_at: AwareDatetime | None = None  # the centre's clock when the push arrived
    answered_at: AwareDatetime | None = None  # ...and when it answered


class Command(_Wire):
    """An order from the centre (wire 1.2): run `kind` now and answer to /commands/{id}."""

    id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["probe", "discover"]
    args: dict[str, Any] = {}
    timeout: float = Field(gt=0, le=3600)  # seconds the centre waits for the result


class ConfigOut(_Wire):
    """What the poller polls: its sites, their devices and the ICMP settings. To a 1.2
    poller a held long poll is also answered when commands wait for it: then `config` is
    left out if its revision did not change."""

    v: Literal[1] = VERSION
    poller: str
    revision: str
    config: dict[str, Any] | None = None  # always there for a 1.0 or 1.1 poller
    commands: tuple[Command, ...] | None = Field(default=None, max_length=64)
    cancel: tuple[str, ...] | None = Field(default=None, max_length=64)  # ids to stop


class Update(_Wire):
    """A command's answer (wire 1.2), `POST /commands/{id}`: "accepted" at once, then any
    number of "progress", then one "result" or "failed" (its `data`: {"error": ...})."""

    v: Literal[1] = VERSION
    kind: Literal["accepted", "progress", "result", "failed"]
    data: dict[str, Any] = {}


class UpdateOut(_Wire):
    v: Literal[1] = VERSION
    cancelled: bool  # the centre gave up on it: stop
