"""The `notify:` section: channels (secrets by reference), who hears about what, retries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitord.config import addresses
from monitord.config.delivery import Digest, Grouping, SmsChannel
from monitord.config.durations import Duration
from monitord.config.oncall import OnCall, Policy, QuietHours, problems
from monitord.config.secrets import SecretRef

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.\-]*$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NotifyEvent(StrEnum):
    """Ticket events that produce messages (a hotline ticket's `opened` included)."""

    OPENED = "opened"
    REOPENED = "reopened"
    RECLASSIFIED = "reclassified"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    RECOVERED = "recovered"
    DIGEST = "digest"  # the daily list of open tickets (notify/digest.py), not a ticket event


class EmailChannel(_Frozen):
    """SMTP: `starttls` upgrades a plain connection (port 587), `tls` is SMTPS (port 465)."""

    type: Literal["email"]
    name: Name
    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretRef | None = None
    sender: str
    timeout: Annotated[float, Field(gt=0, le=300)] = 30.0
    # AUTH over `security: none` puts the password on the wire in clear (base64): only a
    # relay on a trusted segment justifies it, and then the operator says so.
    allow_plaintext_auth: bool = False

    @model_validator(mode="after")
    def _auth_pair(self) -> EmailChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.password is not None and self.security == "none" and not self.allow_plaintext_auth:
            raise ValueError(
                "a password with 'security: none' is sent in clear text; use 'starttls' or "
                "'tls', or set 'allow_plaintext_auth: true'"
            )
        return self


class WebhookChannel(_Frozen):
    """A JSON POST; the URL may carry a token (WeCom's key), so it may be a secret too."""

    type: Literal["webhook"]
    name: Name
    url: str | SecretRef
    # The body: monitord's own JSON, or the text message of a Chinese group bot.
    format: Literal["json", "wecom", "dingtalk", "feishu"] = "json"
    secret: SecretRef | None = None  # DingTalk's and Feishu's signing secret
    timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    # Addresses refused by config/addresses.py (this host, link-local, metadata, ...) are
    # refused unless listed here (tests, a gateway on the same host): a configured URL must
    # not reach into the host itself.
    allow_addresses: tuple[str, ...] = ()


Channel = Annotated[EmailChannel | WebhookChannel | SmsChannel, Field(discriminator="type")]


def url_problems(channels: Iterable[Channel]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Channel URLs and allow lists the address policy refuses, found at load: a plain URL
    now, a secret one when it is first used (it is checked there too)."""
    for i, channel in enumerate(channels):
        if isinstance(channel, EmailChannel):
            continue
        try:
            allow = addresses.networks(channel.allow_addresses)
        except ValueError as exc:
            yield ("notify", "channels", i, "allow_addresses"), str(exc)
            continue
        if isinstance(channel.url, str):
            problem = addresses.url_problem(channel.url, allow)
            if problem is not None:
                yield ("notify", "channels", i, "url"), problem


class Recipient(_Frozen):
    channel: Name
    to: str = ""  # an address for email; empty for a webhook (its URL is the recipient)
    language: Literal["zh", "en"] = "zh"
    events: tuple[NotifyEvent, ...] = tuple(NotifyEvent)
    classes: tuple[str, ...] = ()  # ticket classes (A-D, "hotline"); empty means all
    # The web console user who reads this address: see Person.console_user.
    console_user: Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w.\-]*$", max_length=64)] | None = (
        None
    )


class NotifySettings(_Frozen):
    channels: tuple[Channel, ...] = ()
    # Contract id -> who hears about its tickets; "*" applies to every contract.
    recipients: dict[str, tuple[Recipient, ...]] = {}
    retry_window: Duration = dt.timedelta(hours=24)
    concurrency: Annotated[int, Field(ge=1, le=100)] = 8
    grouping: Grouping = Grouping()
    digest: Digest = Digest()
    # Delivered messages are deleted this long after they went out (failed ones stay).
    retention: Duration = dt.timedelta(days=30)
    # How long a claimed message stays with its claimer: after a crash, the next start
    # sends it again once this has passed (never less than a whole batch may take).
    lease: Duration = dt.timedelta(minutes=5)
    # Who is on call, who escalates to whom, when C/D messages wait (config/oncall.py).
    oncall: OnCall = OnCall()
    escalation: tuple[Policy, ...] = ()
    quiet_hours: tuple[QuietHours, ...] = ()

    @model_validator(mode="after")
    def _known_channels(self) -> NotifySettings:
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise ValueError("notify channel names must be unique")
        for contract, recipients in self.recipients.items():
            for r in recipients:
                if r.channel not in names:
                    raise ValueError(f"recipients.{contract}: no channel named {r.channel!r}")
        for problem in problems(self.oncall, self.escalation, set(names)):
            raise ValueError(problem)
        return self
