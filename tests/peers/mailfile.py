"""The SMTP peer (aiosmtpd, `tests.peers.notify.Mailbox`) as a process, for a daemon that
runs inside a network namespace, whose loopback this process's threads cannot reach.

    ip netns exec NS python -m tests.peers.mailfile PORT FILE

prints "ready" once it listens on 127.0.0.1:PORT in that namespace, then appends one JSON
line per accepted mail and recipient to FILE: {"to", "subject", "at"} (Unix time).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.peers.notify import Mailbox, smtp_server


class FileMailbox(Mailbox):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        before = len(self.received)
        reply = await super().handle_DATA(server, session, envelope)
        with self.path.open("a", encoding="utf-8") as out:
            for to, subject, _ in self.received[before:]:
                out.write(json.dumps({"to": to, "subject": subject, "at": time.time()}) + "\n")
        return reply


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def main() -> None:
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    with smtp_server(FileMailbox(path), port):
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        threading.Event().wait()  # until killed


if __name__ == "__main__":
    main()
