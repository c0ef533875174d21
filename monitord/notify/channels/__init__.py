"""Channels deliver one message each, and say whether a failure is worth retrying.

One module per channel; `build` is the one table from configuration to channel. A channel
raises `DeliveryError(text, permanent)`: permanent when retrying the same message cannot
succeed (a refused address, a 4xx), transient otherwise (timeout, 5xx, connection
refused). Error texts never contain a secret: no password, no token-bearing URL.
"""

from __future__ import annotations

from typing import Protocol

from monitord.config.delivery import SmsChannel
from monitord.config.notify import Channel as ChannelSettings
from monitord.config.notify import EmailChannel, WebhookChannel
from monitord.store.records import OutboxMessage


class DeliveryError(Exception):
    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    name: str

    async def send(self, message: OutboxMessage) -> None:
        """Deliver the message; raises DeliveryError on failure, returns None on success."""


def build(settings: ChannelSettings) -> Channel:
    # Imported here so a daemon without a channel of a kind never imports its client.
    if isinstance(settings, EmailChannel):
        from monitord.notify.channels.email import EmailSender

        return EmailSender(settings)
    if isinstance(settings, WebhookChannel):
        from monitord.notify.channels.webhook import Webhook

        return Webhook(settings)
    if isinstance(settings, SmsChannel):
        from monitord.notify.channels.sms import SmsGateway

        return SmsGateway(settings)
    raise ValueError(f"unknown channel type {type(settings).__name__}")
