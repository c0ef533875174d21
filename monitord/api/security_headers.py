"""Headers every API answer carries, in one place: no MIME sniffing anywhere, and HTML
(the reports) under a policy that loads nothing and cannot be framed (clickjacking).

A pure ASGI middleware, not `@app.middleware("http")`: it only edits the response start,
so streamed and large bodies pass through untouched.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The reports' own meta policy (reports/html.py) plus what only a header can say.
HTML_POLICY: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def start(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                headers.append((b"x-content-type-options", b"nosniff"))
                own = any(k.lower() == b"content-security-policy" for k, _ in headers)
                # The console's pages bring their own policy (forms post to us, our script).
                if kind.lower().startswith(b"text/html") and not own:
                    headers.append((b"content-security-policy", HTML_POLICY.encode()))
                    headers.append((b"x-frame-options", b"DENY"))  # browsers before CSP 2
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, start)
