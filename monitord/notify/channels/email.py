"""Email over SMTP with aiosmtplib: asyncio-native, STARTTLS, SMTPS and AUTH, with timeouts.

Chosen over smtplib in a thread: a stalled server must not hold one of a small pool of
threads for a whole timeout, and its exceptions carry the SMTP reply code we classify by.
One message per recipient (the outbox row), so a refused recipient fails only its own row.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from monitord.config.notify import EmailChannel
from monitord.config.secrets import SecretUnavailable
from monitord.notify.channels import DeliveryError
from monitord.store.records import OutboxMessage


class EmailSender:
    def __init__(self, settings: EmailChannel) -> None:
        self.name = settings.name
        self._s = settings

    async def send(self, message: OutboxMessage) -> None:
        s = self._s
        if not message.recipient:
            raise DeliveryError(f"{self.name}: no recipient address", permanent=True)
        password = None
        if s.password is not None:
            try:
                password = s.password.resolve().get_secret_value()
            except SecretUnavailable as exc:
                # The operator may fix it within the retry window: keep the message.
                raise DeliveryError(f"{self.name}: {exc}") from None
        try:
            await aiosmtplib.send(
                _email(message, s.sender),
                sender=s.sender,
                recipients=[message.recipient],
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=password,
                use_tls=s.security == "tls",
                # Required, not "if offered": a stripped STARTTLS must not send in clear.
                start_tls=s.security == "starttls",
                timeout=s.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryError(
                f"{self.name}: recipient refused ({', '.join(map(str, codes))})",
                permanent=all(c >= 500 for c in codes),
            ) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # 535 and other 5xx: the server refused these credentials, and repeating them for
            # the whole retry window locks many mail accounts. A 454 (temporary) may pass.
            raise DeliveryError(
                f"{self.name}: authentication failed ({exc.code})", permanent=exc.code >= 500
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            text = " ".join(str(exc.message).split())[:200]
            raise DeliveryError(
                f"{self.name}: server replied {exc.code} {text}", permanent=exc.code >= 500
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Refused, reset, timed out, TLS failed, disconnected: the server may come back.
            raise DeliveryError(f"{self.name}: {type(exc).__name__}: {_short(exc)}") from None


def _email(message: OutboxMessage, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(message.created_at.timestamp(), usegmt=True)
    # Derived from the idempotency key: a repeat after a crash has the same Message-ID, so
    # mail clients and archives can recognise it as the same message.
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
    mail["Message-ID"] = f"<{digest}@monitord>"
    mail.set_content(message.body)
    return mail


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or "no detail"
