"""Declared SNMP fetches: which OIDs are asked of which kind of device, with their MIB names.

One place lists every OID monitord reads, the way Checkmk declares its SNMP sections:
the probe fetches exactly these, evaluation (checks/snmp/evaluate.py) interprets them.
Scalars are GET; columns are walked (bounded), or fetched per watched port with GET.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# SNMPv2-MIB system group: every device.
SYS_DESCR: Final = "1.3.6.1.2.1.1.1.0"  # sysDescr.0
SYS_OBJECT_ID: Final = "1.3.6.1.2.1.1.2.0"  # sysObjectID.0
SYS_UPTIME: Final = "1.3.6.1.2.1.1.3.0"  # sysUpTime.0 (TimeTicks, hundredths, wraps at 2^32)
SYS_NAME: Final = "1.3.6.1.2.1.1.5.0"  # sysName.0
SYSTEM: Final = (SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME)

# IF-MIB ifTable / ifXTable columns, fetched for the configured ifIndex values only.
IF_ADMIN_STATUS: Final = "1.3.6.1.2.1.2.2.1.7"  # ifAdminStatus: 1 up, 2 down, 3 testing
IF_OPER_STATUS: Final = "1.3.6.1.2.1.2.2.1.8"  # ifOperStatus: 1 up, 2 down, ... 7
IF_IN_DISCARDS: Final = "1.3.6.1.2.1.2.2.1.13"  # ifInDiscards (Counter32)
IF_IN_ERRORS: Final = "1.3.6.1.2.1.2.2.1.14"  # ifInErrors (Counter32)
IF_OUT_DISCARDS: Final = "1.3.6.1.2.1.2.2.1.19"  # ifOutDiscards (Counter32)
IF_OUT_ERRORS: Final = "1.3.6.1.2.1.2.2.1.20"  # ifOutErrors (Counter32)
IF_HC_IN_OCTETS: Final = "1.3.6.1.2.1.31.1.1.1.6"  # ifHCInOctets (Counter64)
IF_HC_OUT_OCTETS: Final = "1.3.6.1.2.1.31.1.1.1.10"  # ifHCOutOctets (Counter64)
PORT_COLUMNS: Final = (
    IF_ADMIN_STATUS,
    IF_OPER_STATUS,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_IN_ERRORS,
    IF_OUT_ERRORS,
    IF_IN_DISCARDS,
    IF_OUT_DISCARDS,
)
COUNTER_BITS: Final = {
    IF_HC_IN_OCTETS: 64,
    IF_HC_OUT_OCTETS: 64,
    IF_IN_ERRORS: 32,
    IF_OUT_ERRORS: 32,
    IF_IN_DISCARDS: 32,
    IF_OUT_DISCARDS: 32,
}

# POWER-ETHERNET-MIB pethPsePortTable, indexed by (group, port).
PETH_PSE_PORT_DETECTION_STATUS: Final = "1.3.6.1.2.1.105.1.1.1.6"
# 1 disabled, 2 searching, 3 deliveringPower, 4 fault, 5 test, 6 otherFault

# ENTITY-SENSOR-MIB entPhySensorTable, indexed by entPhysicalIndex.
ENT_PHY_SENSOR_TYPE: Final = "1.3.6.1.2.1.99.1.1.1.1"  # 8 = celsius
ENT_PHY_SENSOR_SCALE: Final = "1.3.6.1.2.1.99.1.1.1.2"  # 9 = units (10^0), 3 steps per unit
ENT_PHY_SENSOR_PRECISION: Final = "1.3.6.1.2.1.99.1.1.1.3"  # decimal places
ENT_PHY_SENSOR_VALUE: Final = "1.3.6.1.2.1.99.1.1.1.4"
ENT_PHY_SENSOR_OPER_STATUS: Final = (
    "1.3.6.1.2.1.99.1.1.1.5"  # 1 ok, 2 unavailable, 3 nonoperational
)

# HOST-RESOURCES-MIB hrStorageTable, indexed by hrStorageIndex.
HR_STORAGE_TYPE: Final = "1.3.6.1.2.1.25.2.3.1.2"
HR_STORAGE_DESCR: Final = "1.3.6.1.2.1.25.2.3.1.3"
HR_STORAGE_ALLOCATION_UNITS: Final = "1.3.6.1.2.1.25.2.3.1.4"
HR_STORAGE_SIZE: Final = "1.3.6.1.2.1.25.2.3.1.5"
HR_STORAGE_USED: Final = "1.3.6.1.2.1.25.2.3.1.6"
HR_STORAGE_FIXED_DISK: Final = "1.3.6.1.2.1.25.2.1.4"  # hrStorageFixedDisk
HR_STORAGE_NETWORK_DISK: Final = "1.3.6.1.2.1.25.2.1.10"  # hrStorageNetworkDisk
DISK_TYPES: Final = frozenset({HR_STORAGE_FIXED_DISK, HR_STORAGE_NETWORK_DISK})

# HOST-RESOURCES-MIB hrDeviceTable and hrDiskStorageTable, both indexed by hrDeviceIndex:
# the health of each physical disk, apart from how full its volumes are.
HR_DEVICE_TYPE: Final = "1.3.6.1.2.1.25.3.2.1.2"
HR_DEVICE_DESCR: Final = "1.3.6.1.2.1.25.3.2.1.3"
HR_DEVICE_STATUS: Final = "1.3.6.1.2.1.25.3.2.1.5"  # 1 unknown 2 running 3 warning 4 testing 5 down
HR_DEVICE_DISK_STORAGE: Final = "1.3.6.1.2.1.25.3.1.6"  # hrDeviceDiskStorage
HR_DISK_STORAGE_ACCESS: Final = "1.3.6.1.2.1.25.3.6.1.1"  # 1 readWrite, 2 readOnly

# SNMPv2-MIB notifications (snmpTrapOID.0 values) and the varbind that carries them.
SNMP_TRAP_OID: Final = "1.3.6.1.6.3.1.1.4.1.0"
TRAP_NAMES: Final = {
    "1.3.6.1.6.3.1.1.5.1": "coldStart",
    "1.3.6.1.6.3.1.1.5.2": "warmStart",
    "1.3.6.1.6.3.1.1.5.3": "linkDown",
    "1.3.6.1.6.3.1.1.5.4": "linkUp",
    "1.3.6.1.6.3.1.1.5.5": "authenticationFailure",
}


@dataclass(frozen=True, slots=True)
class Walk:
    """Walk `column`; then GET the `follow` columns for the indexes it found.

    One walk per table instead of one per column: a GETBULK that runs past the end of a
    table (or into a table the agent lacks) still returns `max-repetitions` varbinds, and
    decoding them is where pysnmp spends its CPU.
    """

    column: str
    follow: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """What to ask one device: scalars by GET, tables by (bounded) walk."""

    scalars: tuple[str, ...]
    walks: tuple[Walk, ...]


_SENSORS: Final = Walk(
    ENT_PHY_SENSOR_TYPE,
    (ENT_PHY_SENSOR_SCALE, ENT_PHY_SENSOR_PRECISION, ENT_PHY_SENSOR_VALUE,
     ENT_PHY_SENSOR_OPER_STATUS),
)  # fmt: skip
_STORAGE: Final = Walk(
    HR_STORAGE_TYPE,
    (HR_STORAGE_DESCR, HR_STORAGE_ALLOCATION_UNITS, HR_STORAGE_SIZE, HR_STORAGE_USED),
)
_POE: Final = Walk(PETH_PSE_PORT_DETECTION_STATUS)
_DISKS: Final = Walk(HR_DEVICE_TYPE, (HR_DEVICE_DESCR, HR_DEVICE_STATUS, HR_DISK_STORAGE_ACCESS))


def plan_for(kind: str, ports: tuple[int, ...]) -> FetchPlan:
    """The fetch for one device kind; `ports` are the ifIndex values to watch."""
    port_oids = tuple(f"{column}.{p}" for p in ports for column in PORT_COLUMNS)
    scalars = SYSTEM + port_oids
    if kind == "switch":
        return FetchPlan(scalars, (_POE, _SENSORS))
    if kind == "nvr":
        return FetchPlan(scalars, (_STORAGE, _DISKS, _SENSORS))
    # Access controllers and the rest: reachability, the system group, and watched ports.
    return FetchPlan(scalars, ())
