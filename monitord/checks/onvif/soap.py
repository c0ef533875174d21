"""SOAP messages of the ONVIF services, built by zeep from onvif-zeep-async's packaged WSDLs.

Each WSDL is parsed once per process (off the event loop) into one zeep client per
service, shared by every device: a device adds only its address and credentials
(onvif-zeep-async's ONVIFCamera costs ~0.5 MB and an HTTP session per device and service;
see ../shared/research/libs.md). The WSDLs load through onvif-zeep-async's transport that
refuses anything but local files, so nothing is ever fetched from the network.

zeep only builds requests and reads a tree that monitord.checks.onvif.xml has already
parsed; it never parses a device's bytes itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lxml import etree
from zeep import AsyncClient, Settings
from zeep.wsdl import Document
from zeep.wsdl.utils import etree_to_string

from monitord.checks.onvif.errors import OnvifError, Reason

# ONVIF answers carry ad-hoc extensions; zeep's strict mode would reject valid cameras.
# Strictness of the *XML* itself is enforced by onvif_xml, not here.
SETTINGS: Final = Settings(
    strict=False,
    xml_huge_tree=False,
    forbid_dtd=True,
    forbid_entities=True,
    forbid_external=True,
)


@dataclass(frozen=True, slots=True)
class ServiceDef:
    wsdl: str
    binding: str  # "{namespace}BindingName"


def _onvif(module: str) -> Any:
    """Import part of onvif-zeep-async without letting it configure our logging: its
    client module calls logging.basicConfig() at import time."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return importlib.import_module(module)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


_definition = _onvif("onvif.definition")
_types = _onvif("onvif.types")
_transport = _onvif("onvif.transport")
_client = _onvif("onvif.client")
WSDL_DIR: Final = Path(_definition.__file__).parent / "wsdl"


def service(name: str) -> ServiceDef:
    d = _definition.SERVICES[name]
    return ServiceDef(d["wsdl"], f"{{{d['ns']}}}{d['binding']}")


def _load(wsdl: str) -> AsyncClient:
    document = _DeferredDocument(
        str(WSDL_DIR / wsdl), _transport.AsyncSafeTransport(), settings=SETTINGS
    )
    schema = document.types.documents.get_by_namespace("http://www.w3.org/2001/XMLSchema", False)[0]
    # Cameras send dates zeep rejects (hour 24, no zone): onvif-zeep-async's forgiving types.
    schema.register_type(_types.FastDateTime._default_qname, _types.FastDateTime(is_global=True))
    schema.register_type(_types.ForgivingTime._default_qname, _types.ForgivingTime(is_global=True))
    document.types.add_documents([None], document.location)
    document.real_load(document.location)
    wsa = _onvif("onvif.wsa").WsAddressingIfMissingPlugin()
    return AsyncClient(
        wsdl=document, transport=_transport.AsyncSafeTransport(), settings=SETTINGS, plugins=[wsa]
    )


class _DeferredDocument(Document):  # type: ignore[misc]
    """zeep loads a Document in its constructor; the forgiving types must be in first."""

    def load(self, *args: Any, **kwargs: Any) -> None:
        return None

    def real_load(self, location: str) -> None:
        Document.load(self, location)


class Catalog:
    """The parsed WSDLs, loaded on first use (in a thread: ~0.3 s each) and kept."""

    def __init__(self) -> None:
        self._clients: dict[str, AsyncClient] = {}
        self._lock = threading.Lock()  # not asyncio's: the catalog outlives event loops

    async def client(self, wsdl: str) -> AsyncClient:
        found = self._clients.get(wsdl)
        return found if found is not None else await asyncio.to_thread(self._load, wsdl)

    def _load(self, wsdl: str) -> AsyncClient:
        with self._lock:
            found = self._clients.get(wsdl)
            if found is None:
                found = self._clients[wsdl] = _load(wsdl)
            return found


CATALOG: Final = Catalog()


@dataclass(frozen=True, slots=True)
class Request:
    body: bytes
    headers: dict[str, str]


def build(
    client: AsyncClient,
    svc: ServiceDef,
    operation: str,
    address: str,
    params: dict[str, Any],
    username: str | None,
    password: str | None,
    clock_offset: dt.timedelta | None,
) -> Request:
    """The request envelope, signed with a WS-Security UsernameToken digest when a user is
    given. The token's Created time is the device's own clock (our clock + its offset): a
    camera whose clock is off rejects tokens created by a correct clock."""
    binding = client.wsdl.bindings[svc.binding]
    options = {"address": address}
    envelope, headers = binding._create(operation, (), params, client=client, options=options)
    if username is not None and password is not None:
        # use_digest: without it zeep sends the password itself (#PasswordText) on every call.
        token = _client.UsernameDigestTokenDtDiff(
            username, password, dt_diff=clock_offset, use_digest=True
        )
        envelope, headers = token.apply(envelope, headers)
    return Request(etree_to_string(envelope), dict(headers))


def read(client: AsyncClient, svc: ServiceDef, operation: str, envelope: etree._Element) -> Any:
    """The answer's content as zeep objects; BAD_RESPONSE if it is not what the WSDL says."""
    op = client.wsdl.bindings[svc.binding].get(operation)
    try:
        return op.process_reply(envelope)
    except Exception as exc:  # noqa: BLE001 - zeep raises many kinds for a wrong answer
        raise OnvifError(
            Reason.BAD_RESPONSE, f"{operation}: unexpected answer ({type(exc).__name__})"
        ) from None
