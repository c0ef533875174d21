"""Parsing what a device sends back, assuming it may be hostile.

SOAP forbids document type declarations (SOAP 1.2 part 1, 5), so any DTD is refused before
parsing, and the parser itself never resolves entities, never loads a DTD, never touches
the network and keeps libxml2's default limits (huge_tree off: depth 256, 10 MB text
nodes); recover mode (which onvif-zeep-async turns on) is off, so a broken answer is an
error, never a guess.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from monitord.checks.onvif.errors import OnvifError, Reason

MAX_DEPTH: Final = 64  # ONVIF answers nest ~15 deep (GetProfiles); 64 leaves room
_SOAP_ENVS: Final = (
    "http://www.w3.org/2003/05/soap-envelope",
    "http://schemas.xmlsoap.org/soap/envelope/",
)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse(body: bytes) -> etree._Element:
    """The SOAP envelope of `body`; OnvifError(FORBIDDEN_XML | BAD_XML) otherwise."""
    root = parse_document(body)
    if etree.QName(root).localname != "Envelope" or etree.QName(root).namespace not in _SOAP_ENVS:
        raise OnvifError(Reason.BAD_RESPONSE, "the answer is XML but not a SOAP envelope")
    return root


def parse_document(body: bytes) -> etree._Element:
    """The root of any XML `body` under the same rules (vendor protocols such as SADP send
    bare XML, no SOAP); OnvifError(FORBIDDEN_XML | BAD_XML) otherwise."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise OnvifError(Reason.FORBIDDEN_XML, "the answer declares a DTD or entities; refused")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise OnvifError(Reason.BAD_XML, f"the answer is not well-formed XML ({exc})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise OnvifError(Reason.FORBIDDEN_XML, "the answer declares a DTD; refused")
    if _too_deep(root):
        raise OnvifError(Reason.BAD_XML, f"the answer nests deeper than {MAX_DEPTH} levels")
    return root


def _too_deep(root: etree._Element) -> bool:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in node)
    return False


def fault(envelope: etree._Element) -> tuple[str, str] | None:
    """(code with subcodes, reason text) of a SOAP 1.2 or 1.1 fault, None if there is none."""
    ns = etree.QName(envelope).namespace
    node = envelope.find(f"{{{ns}}}Body/{{{ns}}}Fault")
    if node is None:
        return None
    if ns == _SOAP_ENVS[0]:
        codes = [v.strip() for v in node.xpath(".//*[local-name()='Value']/text()")]
        texts = node.xpath("./*[local-name()='Reason']/*[local-name()='Text']/text()")
    else:
        codes = node.xpath("./faultcode/text()")
        texts = node.xpath("./faultstring/text()")
    reason = " ".join(str(t).strip() for t in texts)[:200]
    return "/".join(str(c) for c in codes)[:200], reason


def child(node: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element down `path` of local names (any namespace: cameras slip), or None."""
    for name in path:
        found = children(node, name)
        node = found[0] if found else None
    return node


def children(node: etree._Element | None, name: str) -> list[etree._Element]:
    """Every child element of `node` with local name `name`."""
    if node is None:
        return []
    return [c for c in node.iterchildren(etree.Element) if _local(c) == name]


def text(node: etree._Element | None, *path: str) -> str | None:
    """The stripped text down `path`; None when an element is missing."""
    found = child(node, *path)
    return None if found is None else (found.text or "").strip()


def _local(node: etree._Element) -> str:
    tag = node.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""
