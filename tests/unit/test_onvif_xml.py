"""The hardened parser on its own: what it refuses, and why."""

from __future__ import annotations

import pytest

from monitord.checks.onvif import xml as onvif_xml
from monitord.checks.onvif.errors import OnvifError, Reason
from tests.peers.soapevil import envelope

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def reason(body: str | bytes) -> Reason:
    with pytest.raises(OnvifError) as caught:
        onvif_xml.parse(body if isinstance(body, bytes) else body.encode())
    return caught.value.reason


def test_a_plain_envelope_parses() -> None:
    root = onvif_xml.parse(envelope("<x:Ok xmlns:x='urn:x'>fine</x:Ok>").encode())
    assert root.tag.endswith("Envelope")
    assert onvif_xml.fault(root) is None


def test_any_dtd_is_refused_even_without_entities() -> None:
    assert reason(envelope("<a/>", "<!DOCTYPE s:Envelope>")) == Reason.FORBIDDEN_XML
    assert reason(envelope("<a/>", '<!DOCTYPE s:Envelope SYSTEM "http://127.0.0.1:9/x.dtd">')) == (
        Reason.FORBIDDEN_XML
    )


def test_depth_is_capped_below_libxml2s_own_limit() -> None:
    nested = "<a>" * (onvif_xml.MAX_DEPTH + 1) + "</a>" * (onvif_xml.MAX_DEPTH + 1)
    assert reason(envelope(nested)) == Reason.BAD_XML
    shallow = "<a>" * 20 + "</a>" * 20
    onvif_xml.parse(envelope(shallow).encode())


def test_not_well_formed_and_not_soap() -> None:
    assert reason(b"") == Reason.BAD_XML
    assert reason(b"\xff\xfe<garbage") == Reason.BAD_XML
    assert reason("<html><body>login</body></html>") == Reason.BAD_RESPONSE
    assert reason('<Envelope xmlns="urn:not-soap"/>') == Reason.BAD_RESPONSE


def test_processing_instructions_and_comments_are_dropped() -> None:
    root = onvif_xml.parse(envelope("<!-- c --><?pi data?><a>1</a>").encode())
    body = root[0]
    assert [child.tag for child in body] == ["a"]


def test_faults_of_both_soap_versions() -> None:
    soap12 = envelope(
        "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized"
        "</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang='en'>Sender not Authorized"
        "</s:Text></s:Reason></s:Fault>"
    )
    assert onvif_xml.fault(onvif_xml.parse(soap12.encode())) == (
        "s:Sender/ter:NotAuthorized",
        "Sender not Authorized",
    )
    soap11 = (
        f'<e:Envelope xmlns:e="{SOAP11}"><e:Body><e:Fault><faultcode>e:Server</faultcode>'
        "<faultstring>boom</faultstring></e:Fault></e:Body></e:Envelope>"
    )
    assert onvif_xml.fault(onvif_xml.parse(soap11.encode())) == ("e:Server", "boom")
