"""The unit denies the cloud-metadata addresses at the kernel (issue 13, item 16).

Parsed here, not by systemd-analyze (which may be missing): every IPAddressDeny= line of
[Service] is read, and no IPAddressAllow= (which wins over a deny) lets them through.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "monitord.service"
METADATA = ("169.254.169.254", "100.100.100.200", "fd00:ec2::254")


def service_settings(text: str) -> dict[str, list[str]]:
    """Each key of [Service] with all its values, in order; an empty assignment resets."""
    section, found = "", dict[str, list[str]]()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = line.partition("=")
        if section == "[Service]":
            values = found.setdefault(key.strip(), [])
            if value.strip():
                values.extend(value.split())
            else:
                values.clear()
    return found


def covers(entries: list[str], address: str) -> bool:
    ip = ipaddress.ip_address(address)
    named = {"any": ("0.0.0.0/0", "::/0"), "link-local": ("169.254.0.0/16", "fe80::/64")}
    nets = [n for e in entries for n in named.get(e, (e,)) if e not in ("localhost", "multicast")]
    return any(ip in ipaddress.ip_network(n, strict=False) for n in nets)


def test_metadata_addresses_are_denied_and_not_allowed_back() -> None:
    settings = service_settings(UNIT.read_text())
    deny, allow = settings.get("IPAddressDeny", []), settings.get("IPAddressAllow", [])
    assert deny, "the unit has no IPAddressDeny="
    for address in METADATA:
        assert covers(deny, address), address
        assert not covers(allow, address), address


def test_the_parser_sees_a_missing_or_reset_deny() -> None:
    """The check can fail: a unit without the line, or one that resets it, is caught."""
    text = UNIT.read_text()
    kept = "\n".join(ln for ln in text.splitlines() if not ln.startswith("IPAddressDeny="))
    assert not covers(service_settings(kept).get("IPAddressDeny", []), METADATA[0])
    reset = text.replace("[Install]", "IPAddressDeny=\n[Install]")  # last in [Service]
    assert service_settings(reset).get("IPAddressDeny") == []
    allowed = text.replace("DevicePolicy=closed", "DevicePolicy=closed\nIPAddressAllow=any")
    assert covers(service_settings(allowed)["IPAddressAllow"], METADATA[0])
