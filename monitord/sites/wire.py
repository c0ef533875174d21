"""The poller link's JSON wire format, version 1 (docs/pollers.md describes it).

Every body carries `v`; a centre answers a version it does not speak with 400, so an old
centre and a new poller fail loudly instead of misreading each other. Times are ISO 8601
with an offset, always the poller's original instant of the event.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from monitord.health.states import State

VERSION: Literal[1] = 1
PREFIX = "/api/poller/v1"
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


class Entry(_Wire):
    """One journal entry: a HARD state change confirmed at the site."""

    seq: int = Field(ge=1)
    kind: Literal["state"] = "state"
    device: str = Field(max_length=64)
    at: AwareDatetime
    from_state: State
    to_state: State
    reason: str = Field(max_length=2000)
    observation: dict[str, Any] = {}


class PushIn(_Wire):
    """Entries in sequence order (possibly none: then it is only a heartbeat)."""

    v: Literal[1] = VERSION
    sent_at: AwareDatetime
    version: str = Field(max_length=40)
    entries: tuple[Entry, ...] = Field(default=(), max_length=MAX_BATCH)


class PushOut(_Wire):
    v: Literal[1] = VERSION
    acked: int  # every entry up to this sequence is applied; the poller may prune them
    revision: str  # of the poller's configuration: fetch /config when it changed


class ConfigOut(_Wire):
    """What the poller polls: its sites, their devices and the ICMP settings."""

    v: Literal[1] = VERSION
    poller: str
    revision: str
    config: dict[str, Any]
