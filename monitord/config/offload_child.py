"""The child's side of config/offload.py: load and settle the file named on the command
line (with `--cached`: through the snapshot, as `load_cached`), and write `(LOADED, config)`
or `(RAISED, exception)`, pickled, to stdout.

It imports no more than the loader needs (not asyncio, not the daemon's logging: 0.16 s of
a child that the reload waits for), and the loader only when run: the daemon imports this
module for its names before it starts the child."""

from __future__ import annotations

import gc
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from monitord.config.models import Config

LOADED: Final = "loaded"
RAISED: Final = "raised"
CACHED: Final = "--cached"


class LoaderFailed(Exception):
    """The child ended without an answer (killed, out of memory, interpreter broken)."""


def main() -> None:
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not end up inside the pickle
    gc.disable()  # everything built here lives until the process ends
    try:
        result: tuple[str, object] = (LOADED, _load(Path(sys.argv[1]), CACHED in sys.argv[2:]))
    except Exception as exc:  # noqa: BLE001 - the daemon reports it as a rejected file
        result = (RAISED, exc)
    try:
        data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - an exception that does not pickle
        what = result[1] if result[0] == RAISED else exc
        data = pickle.dumps((RAISED, LoaderFailed(f"{type(what).__name__}: {what}")))
    answer.write(data)
    answer.close()
    os._exit(0)  # no teardown of a million objects: the daemon is waiting


def _load(path: Path, cached: bool) -> Config:
    if not cached:
        from monitord.config.load import load

        return load(path).settle()
    from monitord.config.snapshot import load_cached

    return load_cached(path).settle()


if __name__ == "__main__":
    main()
