"""Webhook and SMS addresses (issue 13, item 8): a secret URL that is malformed is a
permanent failure that quotes none of it, in `monitord notify test` too; this host's own
addresses and IPv6 forms of refused IPv4 addresses are refused before anything is sent."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitord.cli import main
from monitord.config.delivery import SmsChannel
from monitord.config.notify import WebhookChannel
from monitord.notify.channels import DeliveryError
from monitord.notify.channels.sms import SmsGateway
from monitord.notify.channels.webhook import Webhook
from monitord.store.records import OutboxMessage
from tests.support.ticket_records import T0

SECRET_URL = "https://hooks.example.com:99999/robot/send?key=SECRETKEY"


def message() -> OutboxMessage:
    return OutboxMessage(
        1, "1/1/hook/", 1, "hook", "+8613800000000", "NVR down", "NVR down", T0, T0, 1,
        "sending", None, None, None,
    )  # fmt: skip


def test_notify_test_with_a_malformed_secret_url_quotes_none_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_URL", SECRET_URL)
    config = tmp_path / "monitord.yaml"
    channels = [{"type": "webhook", "name": "hook", "url": {"env": "HOOK_URL"}},
                {"type": "sms", "name": "sms", "url": {"env": "HOOK_URL"}}]  # fmt: skip
    config.write_text(
        yaml.safe_dump({"state_dir": str(tmp_path), "notify": {"channels": channels}})
    )
    for name in ("hook", "sms"):
        done = CliRunner().invoke(
            main, ["-c", str(config), "notify", "test", name, "--to", "+8613800000000"],
            catch_exceptions=False,
        )  # fmt: skip
        assert done.exit_code == 1, done.output
        assert "permanent failure" in done.output and "not valid" in done.output
        for part in ("SECRETKEY", "99999", "hooks.example", "robot"):
            assert part not in done.output


def own_routable() -> list[str]:
    shown = json.loads(subprocess.run(["ip", "-j", "addr"], capture_output=True, check=True).stdout)
    found = [ipaddress.ip_address(a["local"]) for i in shown for a in i.get("addr_info", [])]
    return [str(a) for a in found if not (a.is_loopback or a.is_link_local)]


async def test_this_hosts_own_address_is_refused_for_webhook_and_sms() -> None:
    mine = own_routable()
    if not mine:
        pytest.skip("this host has no address beyond loopback and link-local")
    for address in mine:
        host = f"[{address}]" if ":" in address else address
        hook = WebhookChannel(type="webhook", name="hook", url=f"http://{host}:8080/x")
        with pytest.raises(DeliveryError, match="an address of this host") as caught:
            await Webhook(hook).send(message())
        assert caught.value.permanent
        sms = SmsChannel(type="sms", name="sms", url=f"http://{host}:8080/send")
        with pytest.raises(DeliveryError, match="an address of this host"):
            await SmsGateway(sms).send(message())


@pytest.mark.parametrize(
    "address", ["::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "::a00:1", "0.1.2.3",
                "192.0.0.170"],
)  # fmt: skip
async def test_ipv6_forms_and_reserved_ranges_are_refused(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    hook = WebhookChannel(type="webhook", name="hook", url=f"http://{host}/x")
    with pytest.raises(DeliveryError, match="refused") as caught:
        await Webhook(hook).send(message())
    assert caught.value.permanent
