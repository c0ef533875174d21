"""RTSP framing and the SDP media summary, on documents shaped like real cameras' answers."""

from __future__ import annotations

import pytest

from monitord.checks.rtsp.wire import BadResponse, format_request, parse_head, sdp_media

# Shaped like a Hikvision-style DESCRIBE answer: H.264 video, G.711 audio, ONVIF metadata.
CAMERA_SDP = """v=0
o=- 1109162014219182 1109162014219192 IN IP4 192.0.2.10
s=Media Presentation
c=IN IP4 0.0.0.0
t=0 0
a=control:*
m=video 0 RTP/AVP 96
a=rtpmap:96 H264/90000
a=fmtp:96 profile-level-id=420029; packetization-mode=1
a=control:trackID=1
m=audio 0 RTP/AVP 0
a=control:trackID=2
m=application 0 RTP/AVP 107
a=rtpmap:107 vnd.onvif.metadata/90000
a=control:trackID=3
"""


def test_camera_sdp() -> None:
    assert sdp_media(CAMERA_SDP) == ("video/H264", "audio/PCMU", "application/vnd.onvif.metadata")


@pytest.mark.parametrize(
    ("sdp", "expected"),
    [
        ("m=video 0 RTP/AVP 97\r\na=rtpmap:96 H264/90000\r\n", ("video/pt97",)),
        (
            "m=video 0 RTP/AVP 96 97\na=rtpmap:97 H265/90000\na=rtpmap:96 H264/90000\n",
            ("video/H264",),
        ),
        ("m=video\n", ("video/unknown",)),
        ("m=\n", ("unknown/unknown",)),
        ("a=rtpmap:96 H264/90000\n", ()),
        ("", ()),
    ],
)
def test_odd_sdp(sdp: str, expected: tuple[str, ...]) -> None:
    assert sdp_media(sdp) == expected


def test_head_keeps_repeated_headers_in_order() -> None:
    status, phrase, headers = parse_head(
        b"RTSP/1.0 401 Unauthorized\r\nCSeq: 3\r\n"
        b'WWW-Authenticate: Digest realm="a", nonce="1"\r\n'
        b'WWW-Authenticate: Basic realm="a"\r\n \tfolded continuation\r\n'
    )
    assert (status, phrase) == (401, "Unauthorized")
    assert [v for k, v in headers if k == "www-authenticate"] == [
        'Digest realm="a", nonce="1"',
        'Basic realm="a"',
    ]


@pytest.mark.parametrize(
    "line", [b"RTSP/1.0 99 Odd", b"RTSP/1.0 2000 OK", b"ICY 200 OK", b"RTSP/1.0200 OK", b""]
)
def test_bad_status_lines(line: bytes) -> None:
    with pytest.raises(BadResponse, match="not an RTSP status line"):
        parse_head(line + b"\r\nCSeq: 1")


def test_request_format() -> None:
    assert format_request("DESCRIBE", "rtsp://h/x", 2, {"Accept": "application/sdp"}) == (
        b"DESCRIBE rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n"
    )
