"""What the running daemon lends its console: the configuration file it loaded, a way to
start a supervised task in its loop, and its reload (the SIGHUP path, awaited).

The console is served inside the daemon's event loop (api/server.py), so a discovery run it
starts is one more of the daemon's tasks, owned and reported by its supervisor, and an
applied change set reloads the very configuration the daemon runs on - no signal, no pid.
A console app made without a daemon (tests of the pages alone) has no host: what needs one
says it is unavailable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Spawn = Callable[[str, Coroutine[Any, Any, None]], "asyncio.Task[None]"]


@dataclass(frozen=True, slots=True)
class Host:
    config_path: Path
    spawn: Spawn  # Supervisor.once: a one-off task, logged and counted if it fails
    reload: Callable[[], Awaitable[bool]]  # True: the new configuration is the running one
