"""What a device's SNMP system group says about it: vendor from the sysObjectID's private
enterprise number (IANA), firmware version from sysDescr where it carries one."""

from __future__ import annotations

import re
from typing import Final

_ENTERPRISES: Final = "1.3.6.1.4.1."
# Vendors found on Chinese security-system sites, and the agents their boxes run.
VENDORS: Final = {
    9: "Cisco",
    11: "HP",
    318: "APC",
    368: "Axis",
    2011: "Huawei",
    4881: "Ruijie",
    6574: "Synology",
    8072: "Net-SNMP",
    11863: "TP-Link",
    25506: "H3C",
    39165: "Hikvision",
    50001: "Hikvision",
    1004849: "Dahua",
}
# "V4.30.005", "Version 15.2(7)E3", "firmware 1.2.3", "V200R019C10SPC500": a token that
# starts like a version, after a word that announces one or on its own.
_VERSION: Final = re.compile(
    r"(?:\b(?:firmware|version|ver\.?|software)\s*:?\s*)?"
    r"\b(V?\d+(?:\.\d+)+[\w.()\-]*|V\d{3}R\d{3}\w*)",
    re.IGNORECASE,
)


def vendor_of(sys_object_id: str) -> str | None:
    if not sys_object_id.startswith(_ENTERPRISES):
        return None
    number = sys_object_id[len(_ENTERPRISES) :].split(".", 1)[0]
    return VENDORS.get(int(number)) if number.isdigit() else None


def firmware_of(sys_descr: str) -> str | None:
    found = _VERSION.search(sys_descr)
    return found.group(1) if found else None


def identity(sys_descr: str | None, sys_object_id: str | None) -> dict[str, str]:
    """The facts worth keeping in the archive, by fact name."""
    facts: dict[str, str] = {}
    if sys_descr:
        facts["sys_descr"] = sys_descr
        if firmware := firmware_of(sys_descr):
            facts["firmware"] = firmware
    if sys_object_id:
        facts["sys_object_id"] = sys_object_id
        if vendor := vendor_of(sys_object_id):
            facts["vendor"] = vendor
    return facts
