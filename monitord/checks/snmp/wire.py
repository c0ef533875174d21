"""GET and GETBULK below pysnmp's high-level API, with numeric OIDs only.

The hlapi resolves every request varbind through a MIB view (`resolve_with_mib`), even with
lookupMib=False; for the 20-varbind GETs of a poll that was over half the CPU per request.
Here varbinds are plain (ObjectName, Null) pairs handed to the same command generators the
hlapi uses, configured by the same LCD configurator (so targets and users are shared).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Final

from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto.rfc1902 import Null, ObjectName

Reply = tuple[Any, Any, Any, Sequence[tuple[Any, Any]]]
_GET: Final = cmdgen.GetCommandGenerator()
_BULK: Final = cmdgen.BulkCommandGenerator()


def _done(
    engine: Any, handle: Any, indication: Any, status: Any, index: Any, varbinds: Any, future: Any
) -> None:
    if not future.cancelled():
        future.set_result((indication, status, index, varbinds))


def _varbinds(oids: Sequence[str]) -> list[tuple[ObjectName, Null]]:
    return [(ObjectName(oid), Null("")) for oid in oids]


async def get(engine: Any, auth: Any, target: Any, oids: Sequence[str]) -> Reply:
    addr, _params = LCD.configure(engine, auth, target, b"")
    future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
    _GET.send_varbinds(engine, addr, None, b"", _varbinds(oids), _done, future)
    return await future


async def bulk(engine: Any, auth: Any, target: Any, oid: str, repetitions: int) -> Reply:
    addr, _params = LCD.configure(engine, auth, target, b"")
    future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
    _BULK.send_varbinds(engine, addr, None, b"", 0, repetitions, _varbinds([oid]), _done, future)
    return await future
