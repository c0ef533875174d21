"""Why an ONVIF call failed, as a closed set of reasons the daemon turns into findings."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    AUTH_REJECTED = "auth_rejected"  # credentials refused: its own finding, never an outage
    TIMEOUT = "timeout"  # no complete answer in time (a body that never ends, too)
    REFUSED = "refused"  # nothing listens on the port
    UNREACHABLE = "unreachable"  # other connection failures
    TOO_LARGE = "too_large"  # the answer is bigger than any ONVIF answer needs
    FORBIDDEN_XML = "forbidden_xml"  # a DTD or entity declaration: never parsed
    BAD_XML = "bad_xml"  # not well-formed, or deeper than any ONVIF answer needs
    HTTP_ERROR = "http_error"  # an HTTP error status without a SOAP fault
    FAULT = "fault"  # a SOAP fault (other than "not authorized")
    NOT_SUPPORTED = "not_supported"  # the device does not offer the service or operation
    BAD_RESPONSE = "bad_response"  # well-formed XML that is not the expected answer
    # The device pointed us at an address we do not follow (config/addresses.py): nothing
    # was sent there, credentials least of all.
    ADDRESS_REFUSED = "address_refused"


class OnvifError(Exception):
    """One failed call. `detail` is safe to show: no credential, no response body."""

    def __init__(self, reason: Reason, detail: str, status: int | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason, self.detail, self.status = reason, detail, status
