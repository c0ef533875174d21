"""The hand-written SOAP requests and the reading of answers, on their own."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from lxml import etree

from monitord.checks.onvif import soap
from monitord.checks.onvif import xml as onvif_xml
from monitord.checks.onvif.errors import OnvifError, Reason
from tests.peers.onvif_wsse import password_digest
from tests.peers.soapevil import envelope

WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
CREATED = dt.datetime(2026, 9, 21, 13, 46, 40, tzinfo=dt.UTC)


def parsed(request: soap.Request) -> etree._Element:
    return etree.fromstring(request.body)


def body_of(request: soap.Request) -> etree._Element:
    return parsed(request).find(f"{{{soap.SOAP}}}Body")[0]


@pytest.mark.parametrize("operation", sorted(soap.OPERATIONS))
def test_every_operation_is_its_element_in_its_namespace(operation: str) -> None:
    op = soap.OPERATIONS[operation]
    request = soap.build(operation, "http://127.0.0.1:1/x", {}, None)
    assert body_of(request).tag == f"{{{op.namespace}}}{operation}"
    assert request.headers["SOAPAction"] == f'"{op.action}"'
    assert f'action="{op.action}"' in request.headers["Content-Type"]
    header = parsed(request).find(f"{{{soap.SOAP}}}Header")
    if op.addressing:
        assert header is not None
        assert header.findtext(f"{{{WSA}}}Action") == op.action
        assert header.findtext(f"{{{WSA}}}To") == "http://127.0.0.1:1/x"
        assert (header.findtext(f"{{{WSA}}}MessageID") or "").startswith("urn:uuid:")
    else:  # cameras break on WS-Addressing outside the events services
        assert header is None


def test_parameters_nest_in_the_onvif_schema_namespace() -> None:
    setup: soap.Value = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
    request = soap.build(
        "GetStreamUri", "http://h/x", {"StreamSetup": setup, "ProfileToken": "p<1>"}, None
    )
    body = body_of(request)
    media = "{http://www.onvif.org/ver10/media/wsdl}"
    tt = f"{{{soap.TT}}}"
    assert [c.tag for c in body] == [f"{media}StreamSetup", f"{media}ProfileToken"]
    assert body.findtext(f"{media}ProfileToken") == "p<1>"  # escaped, not markup
    assert body.findtext(f"{media}StreamSetup/{tt}Transport/{tt}Protocol") == "RTSP"


def test_values_are_written_as_xml_schema_types() -> None:
    request = soap.build(
        "PullMessages",
        "http://h/x",
        {"Timeout": dt.timedelta(seconds=60), "MessageLimit": 32},
        None,
    )
    body = body_of(request)
    assert [(etree.QName(c).localname, c.text) for c in body] == [
        ("Timeout", "PT60S"),
        ("MessageLimit", "32"),
    ]
    flag = body_of(soap.build("GetServices", "http://h/x", {"IncludeCapability": False}, None))
    assert flag[0].text == "false"


def test_the_signature_is_a_password_digest_by_the_given_clock() -> None:
    signer = soap.Signer('adm<in>&"', "s3cret-Pa55", CREATED)
    request = soap.build("GetDeviceInformation", "http://h/x", {}, signer)
    assert b"s3cret-Pa55" not in request.body
    token = parsed(request).find(
        f"{{{soap.SOAP}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken"
    )
    assert token is not None
    assert token.findtext(f"{{{WSSE}}}Username") == 'adm<in>&"'
    created = token.findtext(f"{{{WSU}}}Created")
    assert created == "2026-09-21T13:46:40Z"
    nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "")
    assert len(nonce) == 16
    password = token.find(f"{{{WSSE}}}Password")
    assert password is not None and (password.get("Type") or "").endswith("#PasswordDigest")
    assert password.text == password_digest(nonce, created, "s3cret-Pa55")


def test_every_signature_has_its_own_nonce() -> None:
    signer = soap.Signer("admin", "pw", CREATED)
    nonces = {
        parsed(soap.build("GetProfiles", "http://h/x", {}, signer)).findtext(f".//{{{WSSE}}}Nonce")
        for _ in range(20)
    }
    assert len(nonces) == 20  # a replayed nonce is refused by cameras that remember them


def test_read_returns_the_operations_response() -> None:
    root = onvif_xml.parse(
        envelope("<d:GetDeviceInformationResponse xmlns:d='urn:d'><d:Model>X</d:Model>"
                 "</d:GetDeviceInformationResponse>").encode()
    )  # fmt: skip
    got = soap.read("GetDeviceInformation", root)
    assert onvif_xml.text(got, "Model") == "X"


@pytest.mark.parametrize(
    "body",
    ["", "<d:GetProfilesResponse xmlns:d='urn:d'/>", "<d:Other xmlns:d='urn:d'/>"],
)
def test_read_refuses_an_answer_to_another_question(body: str) -> None:
    root = onvif_xml.parse(envelope(body).encode())
    with pytest.raises(OnvifError) as caught:
        soap.read("GetDeviceInformation", root)
    assert caught.value.reason == Reason.BAD_RESPONSE
    assert "GetDeviceInformation" in caught.value.detail


def test_lookups_by_local_name_forgive_namespace_slips() -> None:
    node = etree.fromstring(
        "<r xmlns:a='urn:a' xmlns:b='urn:b'><a:Info><b:HwAddress> 00:11 </b:HwAddress></a:Info>"
        "<a:Nic>1</a:Nic><b:Nic>2</b:Nic><!-- c --></r>"
    )
    assert onvif_xml.text(node, "Info", "HwAddress") == "00:11"
    assert onvif_xml.text(node, "Info", "Missing") is None
    assert onvif_xml.text(None, "Info") is None
    assert [n.text for n in onvif_xml.children(node, "Nic")] == ["1", "2"]
    assert onvif_xml.children(None, "Nic") == []
