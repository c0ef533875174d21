"""Real peers for notification tests: an SMTP server (aiosmtpd) and an HTTP server, both on
loopback, each scripted to fail in a given way before it accepts."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.db import _free_port


@dataclass
class Mailbox:
    """What the SMTP server does: `data_reply` for DATA until changed; `refuse` recipients."""

    data_reply: str = "250 OK"
    refuse: set[str] = field(default_factory=set)
    received: list[tuple[str, str, str]] = field(default_factory=list)  # (to, subject, id)
    bodies: list[str] = field(default_factory=list)  # each accepted mail's text, in order
    delay: float = 0.0  # seconds before answering DATA: a slow server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.data_reply.startswith("250"):
            return self.data_reply
        raw = envelope.original_content or b""
        mail = message_from_bytes(raw, policy=policy.default)
        for to in envelope.rcpt_tos:
            self.received.append((to, str(mail["Subject"]), str(mail["Message-ID"])))
        part = mail.get_body(("plain",))
        self.bodies.append(part.get_content() if part is not None else "")
        return "250 OK"


@dataclass
class Accounts:
    """SMTP AUTH (PLAIN, LOGIN) over plain TCP: `logins` is every attempt, in order."""

    users: dict[str, str]
    logins: list[tuple[str, str]] = field(default_factory=list)

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        self.logins.append((user, password))
        return AuthResult(success=self.users.get(user) == password, handled=False)


@contextmanager
def smtp_server(
    mailbox: Mailbox, port: int, accounts: Accounts | None = None
) -> Iterator[Controller]:
    auth: dict[str, Any] = (
        {"authenticator": accounts, "auth_require_tls": False} if accounts is not None else {}
    )
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **auth)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def message_id(key: str) -> str:
    """The Message-ID monitord gives a mail sent under this idempotency (or group) key."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@monitord>"


def free_port() -> int:
    return _free_port()


@dataclass
class Hook:
    """Replies with `statuses` in turn (the last one repeats); `delay` seconds before each."""

    statuses: list[int] = field(default_factory=lambda: [200])
    reply: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)


@contextmanager
def http_server(hook: Hook) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
            if hook.delay:
                time.sleep(hook.delay)
            if status == 200:
                hook.requests.append((self.path, dict(self.headers), body))
            data = json.dumps(hook.reply).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (a timeout test)

        def log_message(self, *_: Any) -> None:
            pass

    with serve(Handler) as url:
        yield url


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on a free 127.0.0.1 port, in a thread, for the with block; its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
