"""SNMP GET and bounded walks over pysnmp 7's asyncio API, with one shared engine.

Results are frozen `SnmpReading`s; errors are a small tree (`SnmpTimeout`, `SnmpAuthError`,
`SnmpProtocolError`) whose messages name host:port and never a community or key.
The engine's UDP socket gets a large receive buffer: with the default 208 KiB, replies to a
burst of a few hundred requests overflow it and show up as false timeouts
(../shared/research/libs.md, section 1).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import SecretStr
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.carrier.error import CarrierError
from pysnmp.hlapi.v3arch.asyncio import (
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
)
from pysnmp.proto import errind, rfc1902, rfc1905

from monitord.checks.snmp import auth as snmp_auth
from monitord.checks.snmp import wire as snmp_wire
from monitord.checks.snmp.oids import FetchPlan

SnmpValue = int | str
"""Integers (counters, gauges, ticks, enums) as int; strings and OIDs as str."""

_RCVBUF: Final = 4 * 1024 * 1024
_GET_CHUNK: Final = 20  # varbinds per GET: small enough for any agent's PDU size
_MAX_REPETITIONS: Final = 16  # a table of 48 PoE ports in 4 requests
_MISSING: Final = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)
_AUTH_ERRORS: Final = (
    errind.WrongDigest,
    errind.UnknownUserName,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.AuthenticationFailure,
    errind.AuthenticationError,
    errind.DecryptionError,
    errind.NotInTimeWindow,
    errind.UnknownCommunityName,
)


class SnmpError(Exception):
    """An SNMP request failed; `str()` names host:port and what happened, never a secret."""

    kind: str = "protocol"

    def __init__(self, address: str, what: str) -> None:
        super().__init__(f"{address}: {what}")
        self.address, self.what = address, what


class SnmpTimeout(SnmpError):
    """No answer: the agent is down, unreachable, or dropped a wrong community silently."""

    kind = "timeout"


class SnmpAuthError(SnmpError):
    """The agent answered that our v3 credentials are wrong (digest, user, security level)."""

    kind = "auth"


class SnmpProtocolError(SnmpError):
    """The agent answered something unusable: an error status, bad encoding, a loop."""

    kind = "protocol"


@dataclass(frozen=True, slots=True)
class Credentials:
    """v2c community, or a v3 user with optional auth and priv keys (secrets stay secret)."""

    version: Literal["2c", "3"]
    community: SecretStr | None = None
    user: str | None = None
    auth_protocol: str = "SHA"
    auth_key: SecretStr | None = None
    priv_protocol: str = "AES"
    priv_key: SecretStr | None = None


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int
    credentials: Credentials = field(repr=False)
    timeout: float = 2.0
    retries: int = 1

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SnmpReading:
    """What one device answered: values by full OID; absent OIDs are simply not there."""

    address: str
    values: Mapping[str, SnmpValue]
    error: SnmpError | None = None
    partial: tuple[str, ...] = ()  # why some later requests failed after the first worked
    truncated: tuple[str, ...] = ()  # walks stopped at the row limit

    def get(self, oid: str) -> SnmpValue | None:
        return self.values.get(oid)

    def column(self, column: str) -> dict[str, SnmpValue]:
        """Rows of a walked column by index suffix ("1", "1.5")."""
        prefix = column + "."
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}


def convert(value: Any, hex_octets: bool = False) -> SnmpValue | None:
    """A pysnmp value as a plain one; None for noSuchObject/noSuchInstance/endOfMibView.

    `hex_octets`: an OCTET STRING as lowercase hex, for binary ones (MAC addresses, engine
    ids) that a UTF-8 decoding would mangle."""
    if isinstance(value, _MISSING):
        return None
    if isinstance(value, rfc1902.ObjectIdentifier):
        return ".".join(map(str, value.asTuple()))
    if isinstance(value, rfc1902.IpAddress):
        return str(value.prettyPrint())
    if isinstance(value, rfc1902.OctetString):
        if hex_octets:
            return bytes(value).hex()
        return bytes(value).decode("utf-8", "replace")
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value.prettyPrint())


class SnmpClient:
    """Owns the process's one SnmpEngine for polling; close() releases its socket."""

    def __init__(
        self, max_walk_rows: int = 2000, pace: Callable[[str], Awaitable[None]] | None = None
    ) -> None:
        # `pace(host)` is awaited before every request: discovery's per-switch cap.
        self._pace = pace
        self._engines: list[Any] = [SnmpEngine()]
        self._max_walk_rows = max_walk_rows
        self._auth = snmp_auth.AuthCache()
        self._tuned: set[tuple[int, tuple[int, ...]]] = set()
        self._targets: dict[tuple[str, int, float, int], Any] = {}

    def close(self) -> None:
        for engine in self._engines:
            engine.close_dispatcher()

    def _engine(self, c: Credentials) -> tuple[int, Any]:
        slot = self._auth.slot(c)
        while len(self._engines) <= slot:
            self._engines.append(SnmpEngine())
        return slot, self._engines[slot]

    async def _target(self, t: Target) -> UdpTransportTarget | Udp6TransportTarget:
        """One transport target per address and timing: creating one resolves the address in
        a thread and adds entries to the engine's tables, too dear to do per request."""
        key = (t.host, t.port, t.timeout, t.retries)
        found = self._targets.get(key)
        if found is None:
            six = ipaddress.ip_address(t.host).version == 6
            kind = Udp6TransportTarget if six else UdpTransportTarget
            found = await kind.create((t.host, t.port), timeout=t.timeout, retries=t.retries)
            self._targets[key] = found
        return found

    def _check(self, t: Target, indication: Any, status: Any, index: Any) -> None:
        if indication is not None:
            raise _classify(t, indication)
        if status:
            raise SnmpProtocolError(
                t.address, f"agent returned error {status.prettyPrint()} at varbind {index}"
            )

    def _tune_socket(self, slot: int) -> None:
        """Enlarge the receive buffers once the first requests have opened the sockets."""
        for domain in (udp.DOMAIN_NAME, udp6.DOMAIN_NAME):
            if (slot, domain) in self._tuned:
                continue
            try:
                transport = self._engines[slot].transport_dispatcher.get_transport(domain)
            except CarrierError:
                continue  # not opened yet (no IPv6 target so far)
            sock = transport.transport.get_extra_info("socket") if transport.transport else None
            if isinstance(sock, socket.socket):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
                self._tuned.add((slot, domain))

    async def get(
        self, t: Target, oids: Iterable[str], hex_octets: bool = False
    ) -> dict[str, SnmpValue]:
        """GET these OIDs; absent ones are left out. Raises SnmpError."""
        wanted = list(oids)
        out: dict[str, SnmpValue] = {}
        target, auth = await self._target(t), self._auth.for_credentials(t.credentials)
        slot, engine = self._engine(t.credentials)
        for start in range(0, len(wanted), _GET_CHUNK):
            chunk = wanted[start : start + _GET_CHUNK]
            if self._pace is not None:
                await self._pace(t.host)
            try:
                ind, status, index, varbinds = await snmp_wire.get(engine, auth, target, chunk)
            except Exception as exc:  # noqa: BLE001 - pysnmp raises for some errors
                raise _raised(t, exc) from None
            self._tune_socket(slot)
            self._check(t, ind, status, index)
            for oid, value in varbinds:
                converted = convert(value, hex_octets)
                if converted is not None:
                    out[str(oid)] = converted
        return out

    async def walk(
        self, t: Target, column: str, hex_octets: bool = False
    ) -> tuple[dict[str, SnmpValue], bool]:
        """Walk one subtree with GETBULK; stop at the row limit. Returns (rows, truncated).

        The first request asks for one varbind: many agents lack a table (no PoE, no
        sensors), and learning that from a single varbind is far cheaper than decoding a
        full GETBULK of whatever follows in the MIB.
        """
        out: dict[str, SnmpValue] = {}
        prefix = column + "."
        cursor, reps = _oid_key(column), 1
        target, auth = await self._target(t), self._auth.for_credentials(t.credentials)
        slot, engine = self._engine(t.credentials)
        while len(out) < self._max_walk_rows:
            start = ".".join(map(str, cursor))
            if self._pace is not None:
                await self._pace(t.host)
            try:
                ind, status, index, varbinds = await snmp_wire.bulk(
                    engine, auth, target, start, reps
                )
            except Exception as exc:  # noqa: BLE001 - pysnmp raises for some errors
                raise _raised(t, exc) from None
            self._tune_socket(slot)
            self._check(t, ind, status, index)
            if not varbinds:
                return out, False
            for oid, value in varbinds:
                name = str(oid)
                if not name.startswith(prefix) or isinstance(value, rfc1905.EndOfMibView):
                    return out, False
                key = _oid_key(name)
                if key <= cursor:  # a broken agent could walk us in circles
                    raise SnmpProtocolError(t.address, f"OID not increasing at {name}")
                cursor = key
                converted = convert(value, hex_octets)
                if converted is not None:
                    out[name] = converted
            reps = _MAX_REPETITIONS
        return out, True

    async def fetch(self, t: Target, plan: FetchPlan) -> SnmpReading:
        """Everything a plan asks for. Never raises SnmpError: it is in the reading."""
        try:
            values = await self.get(t, plan.scalars)
        except SnmpError as exc:
            return SnmpReading(t.address, {}, error=exc)
        partial: list[str] = []
        truncated: list[str] = []
        for walk in plan.walks:
            try:
                rows, cut = await self.walk(t, walk.column)
                prefix = walk.column + "."
                indexes = [oid[len(prefix) :] for oid in rows]
                more = await self.get(t, [f"{c}.{i}" for i in indexes for c in walk.follow])
            except SnmpError as exc:
                # Some agents answer the system group and time out on a big table.
                partial.append(f"{walk.column}: {exc.what}")
                continue
            values.update(rows)
            values.update(more)
            if cut:
                truncated.append(walk.column)
        return SnmpReading(t.address, values, None, tuple(partial), tuple(truncated))


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.strip(".").split("."))


def _classify(t: Target, indication: Any) -> SnmpError:
    text = str(indication)
    if isinstance(indication, errind.RequestTimedOut):
        return SnmpTimeout(t.address, f"no SNMP response within {t.timeout:g} s x {t.retries + 1}")
    if isinstance(indication, _AUTH_ERRORS):
        return SnmpAuthError(t.address, f"credentials rejected ({type(indication).__name__})")
    return SnmpProtocolError(t.address, f"{type(indication).__name__}: {text}")


def _raised(t: Target, exc: Exception) -> SnmpError:
    """Map an exception pysnmp raised; only its type is kept, its text may quote a packet."""
    if isinstance(exc, OSError):
        return SnmpTimeout(t.address, f"cannot send: {exc.strerror or type(exc).__name__}")
    what = type(exc).__name__
    if what == "StatusInformation":
        what += " (is the 'cryptography' package installed?)"
    return SnmpProtocolError(t.address, f"request failed: {what}")
