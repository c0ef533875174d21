from __future__ import annotations

import pytest

from monitord.checks.snmp.identity import firmware_of, identity, vendor_of


@pytest.mark.parametrize(
    ("descr", "firmware"),
    [
        ("NVR DS-7608NI firmware V4.30.005", "V4.30.005"),
        (
            "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.2(7)E3, RELEASE",
            "15.2(7)E3",
        ),
        (
            "Huawei Versatile Routing Platform Software VRP (R) software,Version 5.170 (S5735 V200R019C10SPC500)",
            "5.170",
        ),
        ("H3C Comware Platform Software, Software Version 7.1.070, Release 6126P20", "7.1.070"),
        ("Linux nvr 4.9.37 #1 SMP armv7l", "4.9.37"),
        ("Door controller", None),
        ("", None),
    ],
)
def test_firmware_of(descr: str, firmware: str | None) -> None:
    assert firmware_of(descr) == firmware


@pytest.mark.parametrize(
    ("oid", "vendor"),
    [
        ("1.3.6.1.4.1.39165.1.1", "Hikvision"),
        ("1.3.6.1.4.1.25506.1.1", "H3C"),
        ("1.3.6.1.4.1.1004849.2.1", "Dahua"),
        ("1.3.6.1.4.1.8072.3.2.10", "Net-SNMP"),
        ("1.3.6.1.4.1.99999.3.8", None),
        ("1.3.6.1.2.1.1", None),
        ("1.3.6.1.4.1.x", None),
    ],
)
def test_vendor_of(oid: str, vendor: str | None) -> None:
    assert vendor_of(oid) == vendor


def test_identity_keeps_what_is_there() -> None:
    assert identity("Switch V1.2", "1.3.6.1.4.1.25506.1") == {
        "sys_descr": "Switch V1.2",
        "firmware": "V1.2",
        "sys_object_id": "1.3.6.1.4.1.25506.1",
        "vendor": "H3C",
    }
    assert identity(None, None) == {}
