"""The outbound address policy (issue 13, item 8): one table of what is refused and why,
this host's own addresses found by `ip` (an independent source), and URL checks that
never quote the URL."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess

import pytest

from monitord.config import addresses

REFUSED = {
    "127.0.0.1": "loopback", "::1": "loopback", "169.254.169.254": "link-local",
    "fe80::1": "link-local", "100.100.100.200": "metadata", "fd00:ec2::254": "metadata",
    "0.0.0.0": "unspecified", "0.1.2.3": "this network", "192.0.0.8": "IETF",
    "255.255.255.255": "broadcast", "224.0.0.1": "multicast", "ff02::1": "multicast",
    "::": "unspecified", "::ffff:127.0.0.1": "loopback", "::ffff:169.254.169.254": "link-local",
    "::10.0.0.1": "IPv4-compatible", "::8.8.8.8": "IPv4-compatible",
    "64:ff9b::7f00:1": "loopback", "64:ff9b::a9fe:a9fe": "link-local",
    "2002:7f00:1::1": "loopback", "2002:a9fe:a9fe::1": "link-local",
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "loopback",  # Teredo, client 127.0.0.1
}  # fmt: skip
ALLOWED = [
    "10.0.0.1", "192.168.1.10", "172.16.5.5", "8.8.8.8", "192.0.2.200", "2001:db8::1",
    "fd00::99", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "100.64.0.1",
]  # fmt: skip


@pytest.mark.parametrize(("text", "kind"), sorted(REFUSED.items()))
def test_refused_addresses_say_why(text: str, kind: str) -> None:
    why = addresses.refusal(ipaddress.ip_address(text))
    assert why is not None and kind in why


def own_addresses() -> list[str]:
    ip = shutil.which("ip")
    if ip is None:
        pytest.skip("iproute2 is not installed")
    shown = json.loads(subprocess.run([ip, "-j", "addr"], capture_output=True, check=True).stdout)
    return [a["local"] for i in shown for a in i.get("addr_info", [])]


@pytest.mark.parametrize("text", ALLOWED)
def test_other_addresses_pass(text: str) -> None:
    if text in own_addresses():
        pytest.skip(f"{text} is an address of this host")
    assert addresses.refusal(ipaddress.ip_address(text)) is None


def test_every_address_of_this_host_is_refused() -> None:
    mine = [ipaddress.ip_address(a) for a in own_addresses()]
    assert mine, "`ip -j addr` listed no address"
    for address in mine:
        assert addresses.refusal(address) is not None, address
    routable = [a for a in mine if not (a.is_loopback or a.is_link_local)]
    if not routable:
        pytest.skip("this host has only loopback and link-local addresses")
    assert all(addresses.refusal(a) == "an address of this host" for a in routable)


def test_an_allow_list_overrides_and_is_checked() -> None:
    allow = addresses.networks(["127.0.0.0/8", "fd00:ec2::254"])
    assert addresses.refused(ipaddress.ip_address("127.0.0.5"), allow) is None
    assert addresses.refused(ipaddress.ip_address("fd00:ec2::254"), allow) is None
    assert addresses.refused(ipaddress.ip_address("169.254.169.254"), allow) is not None
    with pytest.raises(ValueError, match="'nowhere' is not an IP"):
        addresses.networks(["nowhere"])


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com:99999/send?key=SECRETKEY",
        "https://[::1/send?key=SECRETKEY",
        "ftp://hooks.example.com/send?key=SECRETKEY",
        "https://hooks.example.com/se nd?key=SECRETKEY",
        "http://[::ffff:169.254.169.254]/send?key=SECRETKEY",
    ],
)
def test_a_bad_url_is_named_without_quoting_it(url: str) -> None:
    problem = addresses.url_problem(url)
    assert problem is not None
    assert "SECRETKEY" not in problem and "hooks" not in problem and "99999" not in problem


def test_a_good_url_passes() -> None:
    assert addresses.url_problem("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k") is None
    assert (
        addresses.url_problem("http://127.0.0.1:8080/x", addresses.networks(["127.0.0.1"])) is None
    )


@pytest.mark.parametrize(
    ("host", "follow", "followed"),
    [
        ("10.0.0.5", [], True),  # the configured address itself
        ("[::ffff:10.0.0.5]", [], True),
        ("10.0.0.6", [], False),
        ("10.0.0.6", ["10.0.0.0/24"], True),  # an NVR's cameras
        ("10.0.0.6", ["10.0.1.0/24"], False),
        ("169.254.169.254", ["0.0.0.0/0"], False),  # a wide list keeps the policy
        ("169.254.1.9", ["169.254.1.9"], True),  # a camera named exactly is trusted
        ("127.0.0.1", ["127.0.0.0/8"], False),
        ("nvr.example.com", ["0.0.0.0/0"], False),
        ("", [], False),
    ],
)
def test_following_a_device_elsewhere(host: str, follow: list[str], followed: bool) -> None:
    why = addresses.follow_refusal(host, "10.0.0.5", addresses.networks(follow))
    assert (why is None) is followed, why
