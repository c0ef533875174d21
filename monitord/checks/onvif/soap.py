"""SOAP 1.2 requests of the ONVIF operations monitord uses, and the answer's content.

Written by hand rather than by zeep from the WSDLs: the daemon calls fifteen operations
whose requests are a flat element or two, while zeep's parsed WSDLs cost ~20 MB of memory
and ~1 ms of CPU per call (bench/onvif_poll.py; 10 000 cameras long-polling their events
make ~170 calls a second). The requests carry what zeep built from onvif-zeep-async's
WSDLs (the same elements and namespaces, SOAPAction, and WS-Addressing headers for the
events services only, as onvif-zeep-async sends them); tests/integration/test_onvifpeer.py
validates every one against the ONVIF schemas.

Answers are read from the tree monitord.checks.onvif.xml has already parsed: `read`
checks that the Body holds the operation's response and returns that element; callers
pick what they need by local name (monitord.checks.onvif.xml.child and friends), which
forgives the namespace slips real cameras make.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from xml.sax.saxutils import escape

from lxml import etree

from monitord.checks.onvif.errors import OnvifError, Reason

SOAP: Final = "http://www.w3.org/2003/05/soap-envelope"
TT: Final = "http://www.onvif.org/ver10/schema"
_TDS: Final = "http://www.onvif.org/ver10/device/wsdl"
_TRT: Final = "http://www.onvif.org/ver10/media/wsdl"
_TRC: Final = "http://www.onvif.org/ver10/recording/wsdl"
_TEV: Final = "http://www.onvif.org/ver10/events/wsdl"
_WSNT: Final = "http://docs.oasis-open.org/wsn/b-2"
_WSN_ACTION: Final = "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/"
_WSA: Final = "http://www.w3.org/2005/08/addressing"
_WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_TOKEN: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
_NONCE_TYPE: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)


@dataclass(frozen=True, slots=True)
class Operation:
    namespace: str  # of the request's body element and its direct children
    action: str  # SOAPAction, and wsa:Action where `addressing`
    addressing: bool  # the events services want WS-Addressing headers; others break on them


def _plain(namespace: str, name: str) -> Operation:
    return Operation(namespace, f"{namespace}/{name}", False)


_PLAIN: Final = {
    _TDS: ("GetSystemDateAndTime", "GetDeviceInformation", "GetServices", "GetCapabilities",
           "GetNetworkInterfaces"),
    _TRT: ("GetProfiles", "GetStreamUri"),
    _TRC: ("GetRecordings", "GetRecordingJobs", "GetRecordingJobState"),
}  # fmt: skip
OPERATIONS: Final[Mapping[str, Operation]] = {
    **{name: _plain(ns, name) for ns, names in _PLAIN.items() for name in names},
    "CreatePullPointSubscription": Operation(
        _TEV, f"{_TEV}/EventPortType/CreatePullPointSubscriptionRequest", True
    ),
    "PullMessages": Operation(_TEV, f"{_TEV}/PullPointSubscription/PullMessagesRequest", True),
    "Renew": Operation(_WSNT, f"{_WSN_ACTION}RenewRequest", True),
    "Unsubscribe": Operation(_WSNT, f"{_WSN_ACTION}UnsubscribeRequest", True),
}

Value = str | int | bool | dt.timedelta | Mapping[str, "Value"]
"""A parameter: text, a number, a flag, a duration, or nested elements (in tt:, the ONVIF
schema's namespace, as every nested parameter of the operations above is)."""


@dataclass(frozen=True, slots=True)
class Signer:
    """WS-Security UsernameToken, PasswordDigest (UsernameToken Profile 1.0, 3.1): the
    password itself never leaves us. `created` is by the device's clock: a camera whose
    clock is off rejects tokens created by a correct one."""

    username: str
    password: str
    created: dt.datetime

    def header(self) -> str:
        nonce = os.urandom(16)
        created = self.created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = hashlib.sha1(
            nonce + created.encode() + self.password.encode(), usedforsecurity=False
        ).digest()
        return (
            f'<wsse:Security xmlns:wsse="{_WSSE}"><wsse:UsernameToken>'
            f"<wsse:Username>{escape(self.username)}</wsse:Username>"
            f'<wsse:Password Type="{_TOKEN}#PasswordDigest">'
            f"{base64.b64encode(digest).decode()}</wsse:Password>"
            f'<wsse:Nonce EncodingType="{_NONCE_TYPE}">{base64.b64encode(nonce).decode()}'
            f'</wsse:Nonce><wsu:Created xmlns:wsu="{_WSU}">{created}</wsu:Created>'
            "</wsse:UsernameToken></wsse:Security>"
        )


@dataclass(frozen=True, slots=True)
class Request:
    body: bytes
    headers: dict[str, str]


def build(
    operation: str, address: str, params: Mapping[str, Value], signer: Signer | None
) -> Request:
    """The request envelope of `operation` to `address`, signed when a signer is given."""
    op = OPERATIONS[operation]
    header = ""
    if op.addressing:
        header += (
            f"<wsa:Action>{escape(op.action)}</wsa:Action>"
            f"<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
            f"<wsa:To>{escape(address)}</wsa:To>"
        )
    if signer is not None:
        header += signer.header()
    wsa = f' xmlns:wsa="{_WSA}"' if op.addressing else ""
    header = f"<soap-env:Header{wsa}>{header}</soap-env:Header>" if header else ""
    content = "".join(_element("ns0", name, value) for name, value in params.items())
    body = f'<ns0:{operation} xmlns:ns0="{op.namespace}"'
    body += f">{content}</ns0:{operation}>" if content else "/>"
    text = (
        f"<?xml version='1.0' encoding='utf-8'?>\n"
        f'<soap-env:Envelope xmlns:soap-env="{SOAP}">'
        f"{header}<soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>"
    )
    headers = {
        "SOAPAction": f'"{op.action}"',
        "Content-Type": f'application/soap+xml; charset=utf-8; action="{op.action}"',
    }
    return Request(text.encode(), headers)


def _element(prefix: str, name: str, value: Value) -> str:
    if isinstance(value, Mapping):
        inner = "".join(_element("tt", k, v) for k, v in value.items())
        declare = f' xmlns:tt="{TT}"' if prefix != "tt" else ""
        return f"<{prefix}:{name}{declare}>{inner}</{prefix}:{name}>"
    return f"<{prefix}:{name}>{escape(_text(value))}</{prefix}:{name}>"


def _text(value: str | int | bool | dt.timedelta) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.timedelta):
        return f"PT{value.total_seconds():g}S"  # xs:duration
    return str(value)


def read(operation: str, envelope: etree._Element) -> etree._Element:
    """The answer's `{operation}Response` element; BAD_RESPONSE when the Body holds anything
    else (a device answering another operation, or nothing)."""
    body = envelope.find(f"{{{etree.QName(envelope).namespace}}}Body")
    first = None if body is None else next(iter(body.iterchildren(etree.Element)), None)
    if first is None or etree.QName(first).localname != f"{operation}Response":
        raise OnvifError(
            Reason.BAD_RESPONSE, f"{operation}: unexpected answer (no {operation}Response)"
        )
    return first
