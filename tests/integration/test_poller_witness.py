"""The second witness of a silent site (sites/witness.py; issue 14 item 6), over a real
network namespace: the centre pings `sites[].poller_witness` when the poller falls silent,
and the one "site link lost" ticket, with its messages in English and Chinese, says "line
down" when the witness does not answer and "poller box down" when it does.

The centre's side runs inside the lab's client namespace (its SilenceWatch with the real
pinger, on a SQLite store, a fake clock); the witness is a lab host that answers, then is
made to drop echoes (nftables).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers import netlab

pytestmark = pytest.mark.root

_SCRIPT = """
import asyncio, datetime as dt, json
from monitord.clock import FakeClock
from monitord.config import Config
from monitord.health.tracker import HealthTracker
from monitord.inventory.archive import device_record, site_records, topology
from monitord.notify.messages import Routing
from monitord.sites.enrolment import CODE_VALID, new_code, new_token, normal_code
from monitord.sites.silence import SilenceWatch
from monitord.sites.witness import pinging
from monitord.store import Store
from tests.support.contracts import SEED_000

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
chats = [{{"type": "webhook", "name": f"chat-{{lang}}", "url": "http://127.0.0.1:1/chat",
          "format": "wecom", "timeout": 5, "allow_addresses": ["127.0.0.1/32"]}}
         for lang in ("en", "zh")]
config = Config.model_validate({{
    "contracts": [SEED_000.model_dump(mode="json", by_alias=True)],
    "poller_silence": 60,
    "sites": [{{"id": "north", "name": "North", "poller": "p-north", "contract": "seed-000",
               "poller_witness": "{witness}"}}],
    "devices": [{{"id": "n-cam", "name": "cam", "kind": "camera", "address": "192.168.1.10",
                 "site": "north"}}],
    "notify": {{"channels": chats, "recipients": {{"seed-000": [
        {{"channel": "chat-en", "language": "en", "events": ["opened"]}},
        {{"channel": "chat-zh", "language": "zh", "events": ["opened"]}}]}}}},
}})

async def main():
    store = Store.open("sqlite:///{db}")
    store.upgrade()
    store.devices.sync(site_records(config), [device_record(d) for d in config.devices], T0)
    code = new_code()
    store.pollers.add_code("p-north", ["north"], code, T0, CODE_VALID)
    store.pollers.enrol(normal_code(code), new_token(), T0)
    clock = FakeClock(T0)
    tracker = HealthTracker({{d.id: config.icmp_for(d) for d in config.devices}},
                            topology(config))
    routing = Routing.from_config(config)
    watch = SilenceWatch(store, clock, lambda: config, tracker, lambda: routing,
                         witness=pinging(None))
    await clock.advance(61)
    await watch.step()
    [ticket] = store.tickets.recent(None, None, 10)
    _, events = store.tickets.get(ticket.id)
    sent = store.outbox.messages()
    print(json.dumps({{"kind": ticket.fault_kind, "title": ticket.title, "text": events[0].text,
                      "data": events[0].data, "messages": [m.body for m in sent]}}))

asyncio.run(main())
"""


@pytest.fixture
def lab() -> Iterator[netlab.NetLab]:
    if reason := netlab.available():
        pytest.skip(reason)
    with netlab.NetLab(hosts=1) as made:
        yield made


def silence(lab: netlab.NetLab, tmp_path: Path, name: str) -> dict[str, object]:
    [witness] = lab.host_addresses
    script = _SCRIPT.format(witness=witness, db=tmp_path / f"{name}.db")
    out: dict[str, object] = json.loads(lab.python(script, timeout=60).splitlines()[-1])
    return out


def test_the_witness_tells_a_dead_box_from_a_cut_line(lab: netlab.NetLab, tmp_path: Path) -> None:
    [witness] = lab.host_addresses
    box = silence(lab, tmp_path, "box")  # the site's router answers: the box is down
    assert box["kind"] == "site_link_lost"
    assert box["title"] == "site poller down: poller p-north silent, line up"
    assert f"public address {witness} answers" in str(box["text"])
    data = box["data"]
    assert isinstance(data, dict)
    assert (data["witness"], data["witness_address"]) == ("poller_down", witness)
    en, zh = sorted(box["messages"], key=lambda m: "旁证" in m)  # type: ignore[arg-type]
    assert f"Witness: the site's public address {witness} answers" in en
    assert f"旁证：站点公网地址 {witness} 可达：线路正常，采集器主机故障" in zh

    lab.drop(witness)  # the line is cut: its router is out of reach too
    line = silence(lab, tmp_path, "line")
    assert line["title"] == "site link lost: poller p-north silent, line down"
    assert line["data"]["witness"] == "line_down"  # type: ignore[index]
    en, zh = sorted(line["messages"], key=lambda m: "旁证" in m)  # type: ignore[arg-type]
    assert "does not answer either: the line is down" in en
    assert f"旁证：站点公网地址 {witness} 同样不通：线路中断" in zh


def test_a_witness_needs_a_poller() -> None:
    from pydantic import ValidationError

    from monitord.config.models import Site

    with pytest.raises(ValidationError, match="poller_witness: only a site with a poller"):
        Site.model_validate({"id": "hq", "name": "HQ", "poller_witness": "203.0.113.7"})
    assert (
        Site.model_validate(
            {"id": "n", "name": "N", "poller": "p-n", "poller_witness": "203.0.113.7"}
        ).poller_witness
        == "203.0.113.7"
    )
