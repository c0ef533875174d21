"""The ICMP probe against real kernels: loopback, and a lab of two network namespaces."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Iterator

import pytest

from monitord.checks.icmp.client import IcmpMode, IcmpUnavailable, Pinger, PingResult
from tests.peers import netlab

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root for raw ICMP / network namespaces"
)

# Runs inside a namespace (a process cannot switch namespaces under a running event loop).
_PING_SCRIPT = """
import asyncio, json
from monitord.checks.icmp.client import IcmpMode, IcmpUnavailable, Pinger
ARGS = json.loads({args!r})
async def main():
    try:
        pinger = await Pinger.open(IcmpMode(ARGS["mode"]) if ARGS["mode"] else None)
    except IcmpUnavailable as exc:
        return {{"unavailable": str(exc)}}
    async with pinger:
        results = await asyncio.gather(*(
            pinger.ping(a, ARGS["count"], ARGS["interval"], ARGS["timeout"])
            for a in ARGS["addresses"]
        ))
    return {{"mode": pinger.mode.value, "results": [
        [r.address, r.sent, r.received, list(r.rtts), r.error] for r in results
    ]}}
print(json.dumps(asyncio.run(main())))
"""


def ping_in(
    lab: netlab.NetLab,
    addresses: list[str],
    *,
    count: int = 2,
    interval: float = 0.05,
    timeout: float = 0.5,
    mode: IcmpMode | None = IcmpMode.RAW,
    uid: int | None = None,
) -> tuple[str, dict[str, PingResult]]:
    """Ping from the lab's client namespace; (mode used, result per address)."""
    args = {
        "addresses": addresses,
        "count": count,
        "interval": interval,
        "timeout": timeout,
        "mode": mode.value if mode else None,
    }
    out = json.loads(lab.python(_PING_SCRIPT.format(args=json.dumps(args)), uid=uid))
    if "unavailable" in out:
        raise IcmpUnavailable(out["unavailable"])
    results = [PingResult(a, s, r, tuple(rtts), e) for a, s, r, rtts, e in out["results"]]
    return out["mode"], {r.address: r for r in results}


def assert_answered(result: PingResult, count: int, timeout: float) -> None:
    assert result.error is None, result
    assert (result.sent, result.received, result.loss, result.alive) == (count, count, 0.0, True)
    assert len(result.rtts) == count
    assert all(0 <= rtt < timeout for rtt in result.rtts), result.rtts
    assert result.rtt_min is not None and result.rtt_max is not None
    assert result.rtt_min <= (result.rtt_avg or 0) <= result.rtt_max


def assert_unanswered(result: PingResult, count: int) -> None:
    assert (result.sent, result.received, result.rtts, result.error) == (count, 0, (), None)
    assert (result.loss, result.alive, result.rtt_avg) == (1.0, False, None)


# -- the result type (no privileges needed) -------------------------------------------


def test_result_figures() -> None:
    r = PingResult("192.0.2.9", sent=4, received=3, rtts=(0.002, 0.001, 0.003))
    assert (r.loss, r.alive, r.rtt_min, r.rtt_max) == (0.25, True, 0.001, 0.003)
    assert r.rtt_avg == pytest.approx(0.002)


def test_nothing_sent_is_total_loss_not_zero() -> None:
    r = PingResult("192.0.2.9", sent=0, received=0, rtts=(), error="no route to network")
    assert (r.loss, r.alive, r.rtt_min, r.rtt_avg, r.rtt_max) == (1.0, False, None, None, None)


# -- loopback -----------------------------------------------------------------------


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


async def _gather(
    pinger: Pinger, addresses: list[str], count: int, interval: float, wait: float
) -> list[PingResult]:
    pings = (pinger.ping(a, count, interval, wait) for a in addresses)
    return list(await asyncio.gather(*pings))


@pytest.mark.root
@needs_root
class TestLoopback:
    @pytest.mark.parametrize("mode", [None, IcmpMode.RAW])
    async def test_answers(self, mode: IcmpMode | None) -> None:
        async with await Pinger.open(mode) as pinger:
            assert pinger.mode is IcmpMode.RAW  # root may open raw sockets
            result = await pinger.ping("127.0.0.1", count=3, interval=0.01, timeout=1.0)
        assert result.address == "127.0.0.1"
        assert_answered(result, 3, 1.0)

    async def test_many_addresses_at_once(self) -> None:
        addresses = [f"127.2.{i // 250}.{i % 250 + 1}" for i in range(500)]
        async with await Pinger.open() as pinger:
            results = await _gather(pinger, addresses, count=2, interval=0.01, wait=2.0)
        assert [r.address for r in results] == addresses
        for result in results:
            assert_answered(result, 2, 2.0)

    @pytest.mark.skipif(not _ipv6_loopback(), reason="IPv6 loopback ::1 is not configured")
    async def test_ipv6_alongside_ipv4(self) -> None:
        async with await Pinger.open() as pinger:
            v6, v4 = await _gather(pinger, ["::1", "127.0.0.1"], count=2, interval=0.01, wait=1)
        assert_answered(v6, 2, 1.0)
        assert_answered(v4, 2, 1.0)

    async def test_hostnames_and_bad_arguments_are_refused(self) -> None:
        async with await Pinger.open() as pinger:
            for bad in ("localhost", "127.1", "300.1.1.1", "", "::1::2"):
                with pytest.raises(ValueError, match="not an IP address"):
                    await pinger.ping(bad)
            with pytest.raises(ValueError, match="count"):
                await pinger.ping("127.0.0.1", count=0)
        with pytest.raises(RuntimeError, match="closed"):
            await pinger.ping("127.0.0.1")

    async def test_two_pingers_count_only_their_own_replies(self) -> None:
        # Every raw ICMP socket sees every echo reply on the host.
        async with await Pinger.open() as one, await Pinger.open() as two:
            a, b = await asyncio.gather(
                one.ping("127.0.0.1", 5, 0.01, 1.0), two.ping("127.0.0.1", 5, 0.01, 1.0)
            )
        assert_answered(a, 5, 1.0)
        assert_answered(b, 5, 1.0)

    async def test_close_ends_pings_in_flight(self) -> None:
        pinger = await Pinger.open()
        ping = asyncio.create_task(pinger.ping("127.0.0.1", count=50, interval=0.05))
        await asyncio.sleep(0.12)
        pinger.close()
        result = await asyncio.wait_for(ping, 1.0)
        assert result.error == "pinger closed"
        assert 1 <= result.sent < 50


# -- network namespaces -------------------------------------------------------------


@pytest.fixture
def lab() -> Iterator[netlab.NetLab]:
    if reason := netlab.available():
        pytest.skip(reason)
    with netlab.NetLab(hosts=4) as lab:
        yield lab


@pytest.mark.root
@needs_root
class TestNamespaces:
    @pytest.mark.parametrize("mode", [IcmpMode.RAW, IcmpMode.DGRAM])
    def test_lab_hosts_answer_and_nobody_home_does_not(
        self, lab: netlab.NetLab, mode: IcmpMode
    ) -> None:
        if mode is IcmpMode.DGRAM:
            lab.sysctl(lab.client_ns, "net.ipv4.ping_group_range=0 2147483647")
        targets = [*lab.host_addresses, *lab.host_addresses6, lab.unassigned_address]
        used, results = ping_in(lab, targets, count=2, mode=mode)
        assert used == mode.value
        for address in [*lab.host_addresses, *lab.host_addresses6]:
            assert_answered(results[address], 2, 0.5)
        assert_unanswered(results[lab.unassigned_address], 2)

    @pytest.mark.parametrize("mode", [IcmpMode.RAW, IcmpMode.DGRAM])
    def test_firewalled_host_loses_every_echo(self, lab: netlab.NetLab, mode: IcmpMode) -> None:
        if mode is IcmpMode.DGRAM:
            lab.sysctl(lab.client_ns, "net.ipv4.ping_group_range=0 2147483647")
        dropped = [lab.host_addresses[0], lab.host_addresses6[1]]
        lab.drop(*dropped)
        _, results = ping_in(lab, [*lab.host_addresses, *lab.host_addresses6], count=3, mode=mode)
        for address, result in results.items():
            if address in dropped:
                assert_unanswered(result, 3)
            else:
                assert_answered(result, 3, 0.5)
        lab.undrop(*dropped)
        _, results = ping_in(lab, dropped, count=1, mode=mode)
        for result in results.values():
            assert_answered(result, 1, 0.5)

    def test_partial_loss_is_measured(self, lab: netlab.NetLab) -> None:
        lossy, clean = lab.host_addresses[1], lab.host_addresses[2]
        lab.lossy(lossy, every=2)
        _, results = ping_in(lab, [lossy, clean], count=6, interval=0.02)
        assert (results[lossy].sent, results[lossy].received, results[lossy].loss) == (6, 3, 0.5)
        assert results[lossy].alive and len(results[lossy].rtts) == 3
        assert_answered(results[clean], 6, 0.5)

    def test_local_link_down_is_an_error_not_zero_loss(self, lab: netlab.NetLab) -> None:
        lab.link("client", up=False)
        _, results = ping_in(lab, lab.host_addresses[:2], count=3)
        assert results
        for result in results.values():
            assert result.error is not None and "no route" in result.error, result
            assert (result.sent, result.received, result.loss, result.alive) == (0, 0, 1.0, False)

    def test_peer_link_down_is_silent_loss(self, lab: netlab.NetLab) -> None:
        lab.link("host", up=False)
        _, results = ping_in(lab, lab.host_addresses, count=2, timeout=0.3)
        for result in results.values():
            assert_unanswered(result, 2)

    def test_auto_mode_without_privileges(self, lab: netlab.NetLab) -> None:
        lab.sysctl(lab.client_ns, "net.ipv4.ping_group_range=1 0")
        with pytest.raises(IcmpUnavailable, match="CAP_NET_RAW.*ping_group_range.*65534"):
            ping_in(lab, lab.host_addresses[:1], mode=None, uid=65534)
        lab.sysctl(lab.client_ns, "net.ipv4.ping_group_range=65534 65534")
        used, results = ping_in(lab, lab.host_addresses[:1], mode=None, uid=65534)
        assert used == "dgram"
        assert_answered(results[lab.host_addresses[0]], 2, 0.5)

    def test_rtt_is_measured_and_late_replies_are_lost(self, lab: netlab.NetLab) -> None:
        host = lab.host_addresses[0]
        lab.answer_late(0.25)
        _, results = ping_in(lab, [host], count=2, interval=0.05, timeout=1.0)
        assert results[host].received == 2
        assert all(0.25 <= rtt < 0.45 for rtt in results[host].rtts), results[host].rtts
        # Each reply comes 0.25 s after its echo, past that echo's 0.15 s timeout but
        # while the call still waits for its later echoes: none may count.
        _, results = ping_in(lab, [host], count=3, interval=0.2, timeout=0.15)
        assert_unanswered(results[host], 3)
