"""Load and settle a configuration in a child interpreter: the daemon's reload.

A reload built its configuration in a thread of the daemon. Parsing and validation hold
the GIL, so the builder and the event loop took turns: at 10 000 devices the build took
1.7-2.0 s instead of the 0.8 s it takes alone, and it was most of a reload that missed its
2 s (bench/reload.py). A child builds it on another core, meanwhile the daemon's loop has
the GIL to itself, and hands it back pickled: ~2.4 MB, unpickled in 0.05 s, with equal
settings still one object (pickle keeps identity).

The child is the daemon's own interpreter running config/offload_child.py, with the
daemon's environment; its answer comes on its stdout (anything else it prints goes to
stderr).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import sysconfig
from pathlib import Path

from monitord import log
from monitord.config.load import load
from monitord.config.models import Config
from monitord.config.offload_child import RAISED, LoaderFailed

_log = log.get("monitord.config")


async def load_apart(path: Path) -> Config:
    """`load(path).settle()` in a child; raises what `load` raises (ConfigError, OSError).

    Where no child can be started (no processes left, the interpreter gone), it loads in a
    thread as before: slower, but the reload still happens."""
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "monitord.config.offload_child", str(path),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, env=_environment(),
        )  # fmt: skip
    except OSError as exc:
        _log.warning("configuration loader did not start; loading in a thread", error=str(exc))
        return await asyncio.to_thread(lambda: load(path).settle())
    try:
        answer, _ = await child.communicate()
    finally:
        if child.returncode is None:  # cancelled (the daemon stops): the child goes too
            child.kill()
            await child.wait()
    if child.returncode != 0 or not answer:
        raise LoaderFailed(f"the configuration loader ended with status {child.returncode}")
    kind, value = await asyncio.to_thread(pickle.loads, answer)
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
