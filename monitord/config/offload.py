"""Load and settle a configuration in a child interpreter: the daemon's start and reload.

A reload built its configuration in a thread of the daemon. Parsing and validation hold
the GIL, so the builder and the event loop took turns: at 10 000 devices the build took
1.7-2.0 s instead of the 0.8 s it takes alone, and it was most of a reload that missed its
2 s (bench/reload.py). A child builds it on another core, meanwhile the daemon's loop has
the GIL to itself, and hands it back pickled: ~2.4 MB, unpickled in 0.05 s, with equal
settings still one object (pickle keeps identity).

At start the child reads the snapshot or the files (config/snapshot.py, as every command
does) while the daemon imports its parts. Loading builds and drops millions of objects
(YAML events, located nodes, validation), and in the daemon's own heap that left ~30 MB of
partly used arenas behind at 10 000 devices: RSS 149 MB after loading against 119 MB for
the same configuration unpickled, same objects (pymalloc: 87 arenas against 57).

The child is the daemon's own interpreter running config/offload_child.py, with the
daemon's environment; its answer comes on its stdout (anything else it prints goes to
stderr).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from monitord.config.offload_child import CACHED, RAISED, LoaderFailed

if TYPE_CHECKING:
    from monitord.config.models import Config

# The loader, the models and the logs are imported where used: `begin_first` starts the
# child before the daemon imports them (0.5 s sooner at start).


async def load_apart(path: Path) -> Config:
    """`load(path).settle()` in a child; raises what `load` raises (ConfigError, OSError).

    Where no child can be started (no processes left, the interpreter gone), it loads in a
    thread as before: slower, but the reload still happens."""
    try:
        child = await asyncio.create_subprocess_exec(
            *_command(path), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            env=_environment(),
        )  # fmt: skip
    except OSError as exc:
        from monitord import log
        from monitord.config.load import load

        log.get("monitord.config").warning(
            "configuration loader did not start; loading in a thread", error=str(exc)
        )
        return await asyncio.to_thread(lambda: load(path).settle())
    try:
        answer, _ = await child.communicate()
    finally:
        if child.returncode is None:  # cancelled (the daemon stops): the child goes too
            child.kill()
            await child.wait()
    return await asyncio.to_thread(_answer, child.returncode, answer)


def begin_first(path: Path) -> Callable[[], Config]:
    """Start loading the daemon's first configuration (the snapshot when fresh, as
    `load_cached`; settled) in a child; the returned call waits for it and returns it or
    raises what loading raised. Without a child, that call loads here."""
    try:
        child = subprocess.Popen(
            [*_command(path), CACHED], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            env=_environment(),
        )  # fmt: skip
    except OSError:
        # Imported only here: the snapshot's device validator is built at import, work
        # the daemon need not do when the child does it.
        from monitord.config.snapshot import load_cached

        return lambda: load_cached(path).settle()

    def finish() -> Config:
        try:
            answer, _ = child.communicate()
        finally:
            if child.returncode is None:  # interrupted while waiting: the child goes too
                child.kill()
                child.wait()
        return _answer(child.returncode, answer)

    return finish


def _command(path: Path) -> list[str]:
    return [sys.executable, "-m", "monitord.config.offload_child", str(path)]


def _answer(status: int | None, answer: bytes) -> Config:
    from monitord.config.models import Config

    if status != 0 or not answer:
        raise LoaderFailed(f"the configuration loader ended with status {status}")
    kind, value = pickle.loads(answer)
    if kind == RAISED:
        raise value
    assert isinstance(value, Config)
    return value


def _environment() -> dict[str, str]:
    """The daemon's environment; and where this package is, when run from a source tree."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])
    if here not in {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (here, env.get("PYTHONPATH"))))
    return env
