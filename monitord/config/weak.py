"""Settings that load but are unsafe: `monitord check` warns about them (it does not refuse
them: a lab may want exactly that). Each warning is a catalogue key and its values, so the
CLI says it in the reader's language (present/i18n.py, WEAK)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from monitord.config.delivery import SmsChannel
from monitord.config.models import Config
from monitord.config.secrets import SecretUnavailable

MIN_TOKEN_CHARS = 32  # secrets.token_urlsafe(24) and up; guessing it online is hopeless
# Header names that carry a credential: their value belongs in a secret reference.
_SECRET_HEADER = re.compile(r"auth|token|key|secret|sign|pass|cookie|session", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Weakness:
    key: str  # in present/i18n.py WEAK
    values: dict[str, str] = field(default_factory=dict)


def weaknesses(config: Config) -> Iterator[Weakness]:
    if config.api.enabled:
        for t in config.api.tokens:
            try:
                length = len(t.token.resolve().get_secret_value())
            except SecretUnavailable:
                continue  # not readable here (another user's environment); not a weakness
            if length < MIN_TOKEN_CHARS:
                yield Weakness("short_token", {"name": t.name, "length": str(length),
                                               "minimum": str(MIN_TOKEN_CHARS)})  # fmt: skip
        if not _loopback(config.api.listen) and not config.api.behind_tls:
            yield Weakness("plain_http", {"what": "api", "listen": config.api.listen})
    if not _loopback(config.metrics.listen) and not config.metrics.behind_tls:
        yield Weakness("plain_http", {"what": "metrics", "listen": config.metrics.listen})
    for channel in config.notify.channels:
        if isinstance(channel, SmsChannel):
            for name, value in channel.headers.items():
                if isinstance(value, str) and _SECRET_HEADER.search(name):
                    yield Weakness("inline_header", {"channel": channel.name, "header": name})


def _loopback(listen: str) -> bool:
    if listen == "localhost":
        return True
    try:
        return ipaddress.ip_address(listen).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything
