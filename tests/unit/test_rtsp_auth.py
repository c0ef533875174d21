"""RTSP Digest answers against the worked examples of RFC 7616 section 3.9.1."""

from __future__ import annotations

import base64

import pytest

from monitord.checks.rtsp.auth import choose, digest_response, parse_challenges

RFC7616 = {
    "username": "Mufasa",
    "password": "Circle of Life",
    "realm": "http-auth@example.org",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "method": "GET",
    "uri": "/dir/index.html",
    "qop": "auth",
    "nc": "00000001",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
}


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_examples(algorithm: str, expected: str) -> None:
    assert digest_response(algorithm=algorithm, **RFC7616) == expected


def test_rfc2617_example() -> None:
    # RFC 2617 section 3.5 (the no-qop form is checked against GStreamer in integration).
    fields = {
        **RFC7616,
        "password": "Circle Of Life",
        "realm": "testrealm@host.com",
        "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "cnonce": "0a4f113b",
    }
    assert digest_response(algorithm="MD5", **fields) == "6629fae49393a05397450978507c4ef1"


def test_several_challenges_in_one_header_and_the_strongest_wins() -> None:
    challenges = parse_challenges(
        [
            (
                'Basic realm="x", Digest realm="cam", nonce="n1", qop="auth", algorithm=MD5, '
                'Digest realm="cam", nonce="n2", algorithm="SHA-256", qop="auth-int, auth", '
                'opaque="o\\"q"'
            ),
            "Negotiate abc==",
        ]
    )
    assert [c.scheme for c in challenges] == ["basic", "digest", "digest", "negotiate"]
    assert challenges[3].params == {"token68": "abc=="}
    assert challenges[2].params == {
        "realm": "cam",
        "nonce": "n2",
        "algorithm": "SHA-256",
        "qop": "auth-int, auth",
        "opaque": 'o"q',
    }
    authorizer = choose(challenges, "u", "p")
    assert authorizer is not None
    header = authorizer.header("DESCRIBE", "rtsp://h/x")
    assert header.startswith('Digest username="u", realm="cam", nonce="n2"')
    assert 'opaque="o\\"q"' in header and "nc=00000001" in header and "algorithm=SHA-256" in header


def test_basic_only_when_nothing_better() -> None:
    authorizer = choose(
        parse_challenges(['Basic realm="cam"', 'Digest nonce="x", algorithm=SHA-512-256']),
        "u",
        "p:w",
        allow_basic=True,
    )
    assert authorizer is not None
    assert (
        authorizer.header("DESCRIBE", "rtsp://h/x")
        == "Basic " + base64.b64encode(b"u:p:w").decode()
    )


def test_nothing_usable() -> None:
    assert choose(parse_challenges(['Digest realm="no nonce"', "Bearer"]), "u", "p") is None


def test_basic_is_never_chosen_unless_allowed() -> None:
    challenges = parse_challenges(['Basic realm="cam"', 'Digest nonce="x", algorithm=SHA-512-256'])
    assert choose(challenges, "u", "p:w") is None
    both = parse_challenges(['Basic realm="cam"', 'Digest realm="cam", nonce="n"'])
    chosen = choose(both, "u", "p:w")
    assert chosen is not None and chosen.challenge.scheme == "digest"
