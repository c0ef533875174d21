"""Turns one SNMP reading into findings and events, before any confirmation (pure).

Findings are stable checks ("snmp", "port:3", "poe:1.3", "storage:31", "disk:401",
"temperature:1001"); events are one-off facts (a reboot) that go to the operation record once; what the system
group says about the device (firmware in sysDescr) is kept by the store (`learn_facts`).
`Memory` is what the previous poll left behind, so reboots and rates can be told.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final

from monitord.checks.snmp import counters
from monitord.checks.snmp import oids as O
from monitord.checks.snmp.client import SnmpReading, SnmpValue
from monitord.config.snmp import SnmpSettings
from monitord.health.findings import Finding, FindingValue, Status

_MAX_ROWS: Final = 32  # volumes or sensors per device: bounds findings and metric series
_IF_OPER: Final = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant",
                   6: "notPresent", 7: "lowerLayerDown"}  # fmt: skip
_POE: Final = {1: "disabled", 2: "searching", 3: "deliveringPower", 4: "fault", 5: "test",
               6: "otherFault"}  # fmt: skip
_HR_DEVICE: Final = {1: ("unknown", Status.UNKNOWN), 2: ("running", Status.OK),
                     3: ("warning", Status.WARNING), 4: ("testing", Status.OK),
                     5: ("down", Status.CRITICAL)}  # fmt: skip
_POE_STATUS: Final = {1: Status.WARNING, 2: Status.WARNING, 3: Status.OK, 4: Status.CRITICAL,
                      5: Status.OK, 6: Status.CRITICAL}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Memory:
    """What one successful poll leaves for the next: uptime, description, counters."""

    at: float  # monotonic seconds
    uptime_ticks: int | None
    sys_descr: str | None
    counters: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    kind: str  # "reboot"
    reason: str
    values: dict[str, FindingValue]


@dataclass(frozen=True, slots=True)
class Evaluation:
    findings: list[Finding]
    events: list[DeviceEvent]
    memory: Memory | None  # None when the poll failed: keep the previous one


def _int(v: SnmpValue | None) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def evaluate(
    device_id: str,
    kind: str,
    settings: SnmpSettings,
    reading: SnmpReading,
    previous: Memory | None,
    now: float,
) -> Evaluation:
    if reading.error is not None:
        what = {"timeout": "no answer", "auth": "credentials rejected"}.get(
            reading.error.kind, "unusable answer"
        )
        finding = Finding(device_id, "snmp", Status.UNKNOWN, f"SNMP: {what}: {reading.error}")
        return Evaluation([finding], [], None)
    uptime = _int(reading.get(O.SYS_UPTIME))
    descr = reading.get(O.SYS_DESCR)
    sys_descr = descr if isinstance(descr, str) else None
    findings = [_agent(device_id, reading, uptime)]
    events: list[DeviceEvent] = []
    restarted = False
    if previous is not None and previous.uptime_ticks is not None and uptime is not None:
        restarted = counters.rebooted(previous.uptime_ticks, uptime, now - previous.at)
        if restarted:
            events.append(
                DeviceEvent(
                    "reboot",
                    f"rebooted: uptime {uptime / 100:.0f} s, was {previous.uptime_ticks / 100:.0f}"
                    f" s {now - previous.at:.0f} s ago",
                    {"uptime_s": uptime / 100, "previous_uptime_s": previous.uptime_ticks / 100},
                )
            )
    seen: dict[str, int] = {}
    for port in settings.ports:
        findings.append(_port(device_id, port, reading, previous, now, restarted, seen))
    findings += _poe(device_id, settings, reading)
    findings += _storage(device_id, settings, reading)
    findings += _disks(device_id, reading)
    findings += _temperatures(device_id, settings, reading)
    return Evaluation(findings, events, Memory(now, uptime, sys_descr, seen))


def reboot_while_away(
    uptime_ticks: int, last_seen: dt.datetime, last_reboot: dt.datetime | None, now: dt.datetime
) -> DeviceEvent | None:
    """A reboot while monitord was stopped, told at the first poll after its start.

    The device was watched until `last_seen`; an uptime shorter than the time since means it
    booted after that. A reboot event at or after that boot means it was already recorded
    (our last-seen time can lag behind the last poll by a flush interval).
    """
    away = (now - last_seen).total_seconds()
    if away <= 0 or not counters.rebooted(0, uptime_ticks, away):
        return None
    booted = now - dt.timedelta(seconds=uptime_ticks / counters.TICKS_PER_SECOND)
    if last_reboot is not None and last_reboot >= booted - dt.timedelta(seconds=5):
        return None
    uptime_s = uptime_ticks / counters.TICKS_PER_SECOND
    return DeviceEvent(
        "reboot",
        f"rebooted while not watched: uptime {uptime_s:.0f} s, last seen {away:.0f} s ago",
        {"uptime_s": uptime_s, "unwatched_s": round(away, 1)},
    )


def _agent(device_id: str, reading: SnmpReading, uptime: int | None) -> Finding:
    name = reading.get(O.SYS_NAME)
    values: dict[str, FindingValue] = {"uptime_s": uptime / 100} if uptime is not None else {}
    if uptime is None:
        return Finding(device_id, "snmp", Status.UNKNOWN, "SNMP: no usable sysUpTime", values)
    if reading.partial:
        return Finding(
            device_id, "snmp", Status.WARNING, "SNMP: partial answer: " + "; ".join(reading.partial)
        )
    return Finding(device_id, "snmp", Status.OK, f"SNMP: agent {name!s:.64} answers", values)


def _port(
    device_id: str,
    port: int,
    reading: SnmpReading,
    previous: Memory | None,
    now: float,
    restarted: bool,
    seen: dict[str, int],
) -> Finding:
    check = f"port:{port}"
    admin = reading.get(f"{O.IF_ADMIN_STATUS}.{port}")
    oper = reading.get(f"{O.IF_OPER_STATUS}.{port}")
    if admin is None and oper is None:
        return Finding(device_id, check, Status.UNKNOWN, f"port {port}: no such interface")
    oper_i, admin_i = _int(oper), _int(admin)
    if oper_i is None or admin_i is None or oper_i not in _IF_OPER or admin_i not in (1, 2, 3):
        return Finding(
            device_id, check, Status.UNKNOWN,
            f"port {port}: unexpected status values {admin!r:.20}/{oper!r:.20}",
        )  # fmt: skip
    values: dict[str, FindingValue] = {"oper": oper_i, "admin": admin_i}
    for column, bits in O.COUNTER_BITS.items():
        oid = f"{column}.{port}"
        value = _int(reading.get(oid))
        if value is None:
            continue
        seen[oid] = value
        if previous is not None and not restarted and oid in previous.counters:
            per_s = counters.rate(previous.counters[oid], value, bits, now - previous.at)
            if per_s is not None:
                bits_per_octet = 8 if column in _OCTETS else 1  # octets -> bit/s
                values[_RATE_NAMES[column]] = round(per_s * bits_per_octet, 3)
    state = _IF_OPER[oper_i]
    if admin_i == 2:
        return Finding(
            device_id, check, Status.WARNING, f"port {port} is administratively down", values
        )
    if oper_i == 1:
        return Finding(device_id, check, Status.OK, f"port {port} up", values)
    status = Status.CRITICAL if oper_i in (2, 7) else Status.WARNING
    return Finding(device_id, check, status, f"port {port} {state}", values)


_OCTETS: Final = frozenset({O.IF_HC_IN_OCTETS, O.IF_HC_OUT_OCTETS})
_RATE_NAMES: Final = {
    O.IF_HC_IN_OCTETS: "in_bps",
    O.IF_HC_OUT_OCTETS: "out_bps",
    O.IF_IN_ERRORS: "in_errors_per_s",
    O.IF_OUT_ERRORS: "out_errors_per_s",
    O.IF_IN_DISCARDS: "in_discards_per_s",
    O.IF_OUT_DISCARDS: "out_discards_per_s",
}


def _poe(device_id: str, settings: SnmpSettings, reading: SnmpReading) -> list[Finding]:
    out: list[Finding] = []
    watched = set(settings.ports)
    for index, raw in sorted(reading.column(O.PETH_PSE_PORT_DETECTION_STATUS).items()):
        _group, _, port = index.partition(".")
        if not port.isdigit() or int(port) not in watched:
            continue
        check = f"poe:{index}"
        code = _int(raw)
        if code not in _POE:
            out.append(
                Finding(device_id, check, Status.UNKNOWN, f"PoE {index}: unexpected {raw!r:.20}")
            )
            continue
        status = _POE_STATUS[code]
        out.append(
            Finding(device_id, check, status, f"PoE port {index}: {_POE[code]}", {"status": code})
        )
    return out


def _storage(device_id: str, settings: SnmpSettings, reading: SnmpReading) -> list[Finding]:
    out: list[Finding] = []
    types = reading.column(O.HR_STORAGE_TYPE)
    for index, kind in sorted(types.items(), key=lambda kv: _index_key(kv[0]))[: _MAX_ROWS * 4]:
        if kind not in O.DISK_TYPES or len(out) >= _MAX_ROWS:
            continue
        check = f"storage:{index}"
        descr = str(reading.get(f"{O.HR_STORAGE_DESCR}.{index}") or index)[:64]
        size = _int(reading.get(f"{O.HR_STORAGE_SIZE}.{index}"))
        used = _int(reading.get(f"{O.HR_STORAGE_USED}.{index}"))
        unit = _int(reading.get(f"{O.HR_STORAGE_ALLOCATION_UNITS}.{index}")) or 1
        if size is None or used is None or size < 0 or used < 0:
            out.append(
                Finding(device_id, check, Status.UNKNOWN, f"disk {descr}: no usable size/used")
            )
            continue
        if size == 0:
            continue  # an empty slot or an unmounted volume
        pct = 100.0 * used / size
        values: dict[str, FindingValue] = {
            "used_ratio": round(used / size, 4),
            "size_bytes": size * unit,
            "name": descr,
        }
        summary = f"disk {descr}: {pct:.1f}% used"
        if pct >= settings.disk_critical_pct:
            status = Status.CRITICAL
        elif pct >= settings.disk_warning_pct:
            status = Status.WARNING
        else:
            status = Status.OK
        out.append(Finding(device_id, check, status, summary, values))
    return out


def _disks(device_id: str, reading: SnmpReading) -> list[Finding]:
    """Physical disk health (hrDeviceStatus); a disk gone read-only stops recording too."""
    out: list[Finding] = []
    types = reading.column(O.HR_DEVICE_TYPE)
    for index, kind in sorted(types.items(), key=lambda kv: _index_key(kv[0])):
        if kind != O.HR_DEVICE_DISK_STORAGE or len(out) >= _MAX_ROWS:
            continue
        check = f"disk:{index}"
        descr = str(reading.get(f"{O.HR_DEVICE_DESCR}.{index}") or index)[:64]
        code = _int(reading.get(f"{O.HR_DEVICE_STATUS}.{index}"))
        if code not in _HR_DEVICE:
            out.append(Finding(device_id, check, Status.UNKNOWN, f"disk {descr}: no usable status"))
            continue
        word, status = _HR_DEVICE[code]
        values: dict[str, FindingValue] = {"status": code, "name": descr}
        summary = f"disk {descr}: {word}"
        if status == Status.OK and _int(reading.get(f"{O.HR_DISK_STORAGE_ACCESS}.{index}")) == 2:
            status, summary = Status.WARNING, f"disk {descr}: read-only"
            values["read_only"] = 1
        out.append(Finding(device_id, check, status, summary, values))
    return out


def _temperatures(device_id: str, settings: SnmpSettings, reading: SnmpReading) -> list[Finding]:
    out: list[Finding] = []
    for index, sensor_type in sorted(reading.column(O.ENT_PHY_SENSOR_TYPE).items()):
        if sensor_type != 8 or len(out) >= _MAX_ROWS:  # 8: celsius
            continue
        check = f"temperature:{index}"
        value = _int(reading.get(f"{O.ENT_PHY_SENSOR_VALUE}.{index}"))
        scale = _int(reading.get(f"{O.ENT_PHY_SENSOR_SCALE}.{index}")) or 9
        precision = _int(reading.get(f"{O.ENT_PHY_SENSOR_PRECISION}.{index}")) or 0
        oper = _int(reading.get(f"{O.ENT_PHY_SENSOR_OPER_STATUS}.{index}"))
        if value is None or oper != 1 or not 1 <= scale <= 17 or not -8 <= precision <= 9:
            out.append(
                Finding(device_id, check, Status.UNKNOWN, f"sensor {index}: no usable reading")
            )
            continue
        # ENTITY-SENSOR-MIB: scale 9 is units, each step a factor 1000; precision: decimals.
        celsius = value * 10.0 ** (3 * (scale - 9) - precision)
        if celsius >= settings.temperature_critical_c:
            status = Status.CRITICAL
        elif celsius >= settings.temperature_warning_c:
            status = Status.WARNING
        else:
            status = Status.OK
        out.append(
            Finding(
                device_id,
                check,
                status,
                f"sensor {index}: {celsius:.1f} °C",
                {"celsius": round(celsius, 2)},
            )
        )
    return out


def _index_key(index: str) -> tuple[int, ...]:
    return tuple(int(p) for p in index.split(".") if p.isdigit())
