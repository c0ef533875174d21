"""Every ticket event records who was authenticated, and every face shows it beside the
free-text name; only a customer signs off, or a manager visibly on its behalf (issue 13,
item 6)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from monitord.cli import main
from monitord.present.signature import cli_principal
from tests.support.apilab import Api
from tests.support.ticketlab import config_data

FORGED = "Customer Zhao (estate manager)"


async def resolved(api: Api) -> int:
    ticket = await api.down("nvr")
    for kind in ["ack", "onsite", "diagnose", "plan", "stage", "resolve"]:
        assert (await api.act(ticket, kind)).status_code == 201, kind
    return ticket


async def post(api: Api, ticket: int, who: str, **body: Any) -> Any:
    return await api.call("POST", f"/api/v1/tickets/{ticket}/events", who, json=body)


async def test_an_engineer_cannot_sign_off_for_the_customer(api: Api) -> None:
    ticket = await resolved(api)
    before = len(api.store.tickets.events(ticket))
    forged = await post(api, ticket, "eng", kind="verify", by=FORGED, text="accepted")
    assert forged.status_code == 403 and "customer" in forged.json()["detail"]
    behalf = await post(api, ticket, "eng", kind="comment", by="li", on_behalf_of="Zhao")
    assert behalf.status_code == 403
    as_customer = await post(api, ticket, "cust", kind="comment", by="x", on_behalf_of="Zhao")
    assert as_customer.status_code == 403
    assert len(api.store.tickets.events(ticket)) == before


async def test_a_manager_verifies_only_visibly_on_the_customers_behalf(api: Api) -> None:
    ticket = await resolved(api)
    bare = await post(api, ticket, "mgr", kind="verify", by="Manager Wu", text="ok")
    assert bare.status_code == 422
    assert bare.json()["detail"][0]["loc"] == ["body", "on_behalf_of"]
    done = await post(api, ticket, "mgr", kind="verify", by="Manager Wu", text="ok by phone",
                      on_behalf_of="Zhao")  # fmt: skip
    assert done.status_code == 201, done.text
    last = done.json()["events"][-1]
    assert last["data"]["principal"] == "api:mgr/manager"
    assert last["data"]["on_behalf_of"] == "Zhao"
    assert last["signed"] == "Manager Wu [api:mgr/manager, on behalf of Zhao]"
    record = await api.call("GET", f"/api/v1/reports/tickets/{ticket}", "cust",
                            params={"format": "md", "lang": "en"})  # fmt: skip
    assert record.status_code == 200
    assert "Manager Wu [api:mgr/manager, on behalf of Zhao]" in record.text


async def test_every_face_shows_the_principal_beside_a_borrowed_name(api: Api) -> None:
    ticket = await resolved(api)
    comment = await post(api, ticket, "cust", kind="comment", by="Engineer Li", text="done?")
    assert comment.status_code == 201
    signed = await post(api, ticket, "cust", kind="verify", by="Zhao", text="accepted")
    assert signed.status_code == 201
    events = signed.json()["events"]
    assert events[-2]["signed"] == "Engineer Li [api:cust/customer]"
    assert events[-1]["signed"] == "Zhao [api:cust/customer]"
    assert all(e["data"].get("principal") == "api:eng/engineer" for e in events[1:-2])
    hotline = await api.call("POST", "/api/v1/tickets", "eng",
                             json={"site": "s1", "by": "li", "text": "camera 3 is dark"})  # fmt: skip
    assert hotline.json()["events"][0]["signed"] == "li [api:eng/engineer]"
    record = await api.call("GET", f"/api/v1/reports/tickets/{ticket}", "mgr",
                            params={"format": "md", "lang": "en"})  # fmt: skip
    assert "Engineer Li [api:cust/customer]" in record.text
    assert "Zhao [api:cust/customer]" in record.text
    day = api.clock.now().date().isoformat()
    log = await api.call("GET", "/api/v1/reports/log", "mgr",
                         params={"from": day, "to": day, "site": "s1"})  # fmt: skip
    cells = [c for row in csv.reader(io.StringIO(log.text.lstrip("\ufeff"))) for c in row]
    assert "Engineer Li [api:cust/customer]" in cells and "Engineer Li" not in cells


def test_the_cli_records_its_user_and_a_verification_on_the_customers_behalf(
    tmp_path: Path,
) -> None:
    data = config_data(f"sqlite:///{tmp_path / 'monitord.db'}", "city")
    config = tmp_path / "monitord.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, ["-c", str(config), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    cli("ticket", "open", "--site", "s1", "--by", "li", "camera 3 is dark")
    for action in ["ack", "onsite", "diagnose", "plan", "stage", "resolve"]:
        cli("ticket", action, "1", "--by", "eng-li", "notes")
    cli("ticket", "verify", "1", "--by", "customer-wang", "accepted")
    events = json.loads(cli("ticket", "show", "1", "--json"))["events"]
    me = cli_principal()
    assert me.startswith("cli:") and len(me) > 4
    assert [e["data"]["principal"] for e in events] == [me] * 8  # opened too
    assert events[-1]["data"]["on_behalf_of"] == "customer-wang"
    assert f"customer-wang [{me}, on behalf of customer-wang]" in cli("ticket", "show", "1")
