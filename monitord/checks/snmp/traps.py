"""The SNMP trap and inform receiver (v1, v2c, v3) on a UDP socket we bind ourselves.

pysnmp's own `open_server_mode(("host", port))` binds later in a future and swallows
"address already in use": the receiver would look alive and hear nothing
(../shared/research/libs.md). Binding here makes a busy port fail the start, loudly.
The receiver has its own engine: its transport is a server and its USM users are the
senders', unrelated to the polling engine's.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from pydantic import SecretStr
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto.api import v2c

from monitord.checks.snmp.auth import AUTH_PROTOCOLS, PRIV_PROTOCOLS
from monitord.checks.snmp.client import convert
from monitord.checks.snmp.oids import SNMP_TRAP_OID, TRAP_NAMES

_MAX_VARBINDS: Final = 32  # kept per trap: a sender cannot make us hold much
_BAD_V3: Final = (
    ("SNMP-USER-BASED-SM-MIB", "usmStatsWrongDigests"),
    ("SNMP-USER-BASED-SM-MIB", "usmStatsUnknownUserNames"),
    ("SNMP-USER-BASED-SM-MIB", "usmStatsUnsupportedSecLevels"),
    ("SNMP-USER-BASED-SM-MIB", "usmStatsDecryptionErrors"),
)


@dataclass(frozen=True, slots=True)
class TrapUserKeys:
    user: str
    auth_protocol: str
    auth_key: SecretStr
    priv_protocol: str
    priv_key: SecretStr | None
    engine_id: str | None  # the sender's, hex; needed for v3 traps (not informs)


@dataclass(frozen=True, slots=True)
class Trap:
    """One notification as received. `name` is a standard trap's name or "enterprise"."""

    source: str
    security_model: int  # 1 v1, 2 v2c, 3 USM
    trap_oid: str
    name: str
    varbinds: tuple[tuple[str, int | str], ...]
    at: dt.datetime


class TrapListenError(Exception):
    """The trap port cannot be bound (in use, privileged, no such address)."""


class TrapReceiver:
    def __init__(
        self,
        listen: str,
        port: int,
        communities: Iterable[SecretStr],
        users: Iterable[TrapUserKeys],
        on_trap: Callable[[Trap], None],
        now: Callable[[], dt.datetime],
    ) -> None:
        self._on_trap, self._now = on_trap, now
        self._engine = engine.SnmpEngine()
        six = ":" in listen
        sock = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((listen, port))
        except OSError as exc:
            sock.close()
            raise TrapListenError(
                f"cannot listen for SNMP traps on {listen}:{port}: {exc.strerror}"
            ) from None
        self.port = int(sock.getsockname()[1])
        transport = (udp6.Udp6Transport if six else udp.UdpTransport)().open_server_mode(sock=sock)
        config.add_transport(self._engine, (udp6 if six else udp).DOMAIN_NAME, transport)
        for i, community in enumerate(communities):
            config.add_v1_system(self._engine, f"trap-area-{i}", community.get_secret_value())
        for u in users:
            self._add_user(u)
        ntfrcv.NotificationReceiver(self._engine, self._received)
        self._engine.transport_dispatcher.job_started(1)

    def _add_user(self, u: TrapUserKeys) -> None:
        priv = PRIV_PROTOCOLS[u.priv_protocol] if u.priv_key else config.USM_PRIV_NONE
        args: list[Any] = [
            u.user,
            AUTH_PROTOCOLS[u.auth_protocol],
            u.auth_key.get_secret_value(),
            priv,
            u.priv_key.get_secret_value() if u.priv_key else None,
        ]
        # Informs are authenticated with our engine ID, traps with the sender's.
        config.add_v3_user(self._engine, *args)
        if u.engine_id:
            engine_id = v2c.OctetString(hexValue=u.engine_id.removeprefix("0x"))
            config.add_v3_user(self._engine, *args, securityEngineId=engine_id)

    def close(self) -> None:
        self._engine.transport_dispatcher.job_finished(1)
        self._engine.close_dispatcher()

    def drops(self) -> dict[str, int]:
        """Notifications the engine refused, by reason (from its own MIB counters)."""
        builder = self._engine.get_mib_builder()

        def count(module: str, name: str) -> int:
            (symbol,) = builder.import_symbols("__" + module, name)
            return int(symbol.syntax)

        return {
            "bad_community": count("SNMPv2-MIB", "snmpInBadCommunityNames"),
            "bad_v3_credentials": sum(count(m, n) for m, n in _BAD_V3),
            "malformed": count("SNMPv2-MIB", "snmpInASNParseErrs"),
        }

    def _received(
        self,
        snmp_engine: Any,
        state_reference: Any,
        context_engine_id: Any,
        context_name: Any,
        varbinds: Any,
        cb_ctx: Any,
    ) -> None:
        ctx = snmp_engine.observer.get_execution_context("rfc3412.receiveMessage:request")
        source = str(ctx["transportAddress"][0])
        kept: list[tuple[str, int | str]] = []
        trap_oid = ""
        for oid, value in varbinds:
            plain = convert(value)
            if plain is None:
                continue
            if str(oid) == SNMP_TRAP_OID:
                trap_oid = str(plain)
            elif len(kept) < _MAX_VARBINDS:
                kept.append((str(oid), plain if isinstance(plain, int) else plain[:256]))
        name = TRAP_NAMES.get(trap_oid, "enterprise")
        model = int(ctx.get("securityModel", 0))
        self._on_trap(Trap(source, model, trap_oid, name, tuple(kept), self._now()))
