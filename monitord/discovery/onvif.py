"""ONVIF after WS-Discovery: the unauthenticated clock sweep, then identity with credentials.

Cameras set NonDiscoverable never answer a Probe, but ONVIF lets anyone read the clock
(GetSystemDateAndTime) before authentication: a sweep of 80/8000/8080 over the ranges
finds them. Identity (vendor, model, serial, firmware, MAC) then uses the site's ONVIF
logins, one after another, through the existing client (hardened parser, size and time
caps, digest authentication); a login is sent only to an address inside the ranges.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from lxml import etree
from pydantic import SecretStr

from monitord.checks.onvif import xml as onvif_xml
from monitord.checks.onvif.client import NS_DEVICE, OnvifClient, OnvifTarget
from monitord.checks.onvif.errors import OnvifError, Reason
from monitord.discovery.scope import Pacer, Scope

SWEEP_PORTS: Final = (80, 8000, 8080)
_PRESENT: Final = (Reason.AUTH_REJECTED,)  # the clock behind a login: still an ONVIF device
Login = tuple[str, SecretStr]


@dataclass(frozen=True, slots=True)
class Endpoint:
    address: str
    port: int = 80
    path: str = "/onvif/device_service"


@dataclass(frozen=True, slots=True)
class OnvifFacts:
    """What a device told us once logged in; `error` says why not, if it did not."""

    endpoint: Endpoint
    vendor: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""
    mac: str = ""
    error: str | None = None
    activated: bool | None = None  # SADP's word; False: no admin password set yet


def _target(e: Endpoint, timeout: float, login: Login | None = None) -> OnvifTarget:
    user, password = login if login else (None, None)
    return OnvifTarget(e.address, e.port, e.path, user, password, timeout)


async def sweep(
    client: OnvifClient, scope: Scope, pacer: Pacer, addresses: Iterable[str],
    now: Callable[[], dt.datetime], *, ports: Sequence[int] = SWEEP_PORTS,
    seconds: float = 1.5, concurrency: int = 32,
) -> list[Endpoint]:  # fmt: skip
    """Endpoints among `addresses` x `ports` that answer GetSystemDateAndTime."""
    gate = asyncio.Semaphore(concurrency)
    found: list[Endpoint] = []

    async def one(e: Endpoint) -> None:
        async with gate:
            try:
                await client.device(_target(e, seconds), now).read_clock()
            except OnvifError as exc:
                if exc.reason not in _PRESENT:
                    return
            found.append(e)

    tasks = []
    for address in addresses:
        if not scope.allows(address):
            continue
        for port in ports:
            await pacer.wait()
            tasks.append(asyncio.create_task(one(Endpoint(address, port))))
    await asyncio.gather(*tasks)
    return sorted(found, key=lambda e: (e.address, e.port))


async def identify(
    client: OnvifClient, scope: Scope, endpoint: Endpoint, logins: Sequence[Login],
    now: Callable[[], dt.datetime], seconds: float = 3.0,
) -> OnvifFacts:  # fmt: skip
    if not scope.allows(endpoint.address):
        return OnvifFacts(endpoint, error="outside the discovery ranges: no login sent")
    if not logins:
        return OnvifFacts(endpoint, error="no ONVIF login configured for the site")
    why = ""
    for login in logins:
        device = client.device(_target(endpoint, seconds, login), now)
        try:
            await device.read_clock()  # the clock offset to sign with
            ident = await device.identity()
        except OnvifError as exc:
            why = exc.detail
            if exc.reason == Reason.AUTH_REJECTED:
                continue  # the next login of the site's set
            return OnvifFacts(endpoint, error=why)
        mac = ""
        try:
            mac = _mac(await device.call("devicemgmt", NS_DEVICE, "GetNetworkInterfaces"))
        except OnvifError as exc:
            why = exc.detail  # identity without a MAC is still identity (serial)
        return OnvifFacts(
            endpoint, ident.manufacturer, ident.model, ident.serial, ident.firmware, mac
        )
    return OnvifFacts(endpoint, error=f"every ONVIF login was rejected ({why})")


def _mac(interfaces: etree._Element) -> str:
    """The first enabled interface's hardware address, normalised (aa:bb:cc:dd:ee:ff)."""
    for nic in onvif_xml.children(interfaces, "NetworkInterfaces")[:16]:
        raw = onvif_xml.text(nic, "Info", "HwAddress")
        if raw and onvif_xml.text(nic, "Enabled") not in ("false", "0"):
            return normal_mac(raw)
    return ""


def normal_mac(text: str) -> str:
    digits = "".join(c for c in text.lower() if c in "0123456789abcdef")
    if len(digits) != 12:
        return ""
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
