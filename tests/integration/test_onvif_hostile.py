"""The ONVIF client against a hostile peer (tests/peers/soapevil.py): every attack is a clear,
bounded error; no entity is ever resolved; memory stays bounded."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from monitord.checks.onvif.client import OnvifClient, OnvifTarget
from monitord.checks.onvif.errors import OnvifError, Reason
from tests.peers.soapevil import CANARY, EvilSoap

EXPECTED = {
    "xxe_file": Reason.FORBIDDEN_XML,
    "xxe_http": Reason.FORBIDDEN_XML,
    "billion_laughs": Reason.FORBIDDEN_XML,
    "quadratic": Reason.FORBIDDEN_XML,
    "huge": Reason.TOO_LARGE,
    "huge_chunked": Reason.TOO_LARGE,
    "endless": Reason.TIMEOUT,
    "stall": Reason.TIMEOUT,
    "invalid_xml": Reason.BAD_XML,
    "deep": Reason.BAD_XML,
    "not_soap": Reason.BAD_RESPONSE,
    "fault": Reason.FAULT,
    "http500": Reason.HTTP_ERROR,
}


def _target(evil: EvilSoap, mode: str) -> OnvifTarget:
    url = urlsplit(evil.url(mode))
    return OnvifTarget("127.0.0.1", evil.port, url.path, "admin", None, timeout=1.5)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("mode", sorted(EXPECTED))
async def test_each_attack_is_a_clear_error(mode: str) -> None:
    async with EvilSoap() as evil:
        client = OnvifClient()
        try:
            device = client.device(_target(evil, mode), _now)
            tracemalloc.start()
            try:
                with pytest.raises(OnvifError) as caught:
                    await device.read_clock()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        finally:
            await client.close()
        assert caught.value.reason == EXPECTED[mode], caught.value
        assert CANARY not in str(caught.value)
        assert "LEAKED" not in str(caught.value)
        assert evil.canary_hits == 0
        assert evil.requests >= 1
        # a 50 MB answer never sits in memory: the cap is 1 MiB, plus parsing overhead
        assert peak < 8 * 1024 * 1024, f"{mode}: peak {peak} bytes"


async def test_a_sane_answer_from_the_same_peer_is_read() -> None:
    async with EvilSoap() as evil:
        client = OnvifClient()
        try:
            reading = await client.device(_target(evil, "ok"), _now).read_clock()
        finally:
            await client.close()
    assert reading.device_utc == dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC)
    assert reading.ntp is True


async def test_the_client_keeps_working_after_every_attack() -> None:
    async with EvilSoap() as evil:
        client = OnvifClient()
        try:
            for mode in EXPECTED:
                with pytest.raises(OnvifError):
                    await client.device(_target(evil, mode), _now).read_clock()
            reading = await client.device(_target(evil, "ok"), _now).read_clock()
        finally:
            await client.close()
    assert reading.device_utc.year == 2026
    assert evil.canary_hits == 0


async def test_http_digest_is_answered_and_remembered() -> None:
    async with EvilSoap() as evil:
        client = OnvifClient()
        try:
            path = urlsplit(evil.url("http_digest")).path
            target = OnvifTarget(
                "127.0.0.1", evil.port, path, "admin", SecretStr(evil.digest_password), 1.5
            )
            device = client.device(target, _now)
            first = await device.read_clock()
            challenges = evil.digest_challenges
            second = await device.read_clock()
            after_second = evil.digest_challenges
            wrong = client.device(
                OnvifTarget("127.0.0.1", evil.port, path, "admin", SecretStr("nope"), 1.5), _now
            )
            with pytest.raises(OnvifError) as caught:
                await wrong.read_clock()
        finally:
            await client.close()
    assert first.device_utc == second.device_utc
    assert evil.digest_answers == 2
    assert after_second == challenges  # the nonce is reused: no new challenge
    assert caught.value.reason == Reason.AUTH_REJECTED
    assert "nope" not in str(caught.value)
