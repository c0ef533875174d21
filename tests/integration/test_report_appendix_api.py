"""The monthly report's appendix over the API: named by the report, every device, own only."""

from __future__ import annotations

import csv
import datetime as dt
import io

from monitord.store.records import OperationEvent, SavedState
from tests.support.apilab import Api


async def test_the_report_names_its_appendix_and_the_appendix_lists_every_device(
    api: Api,
) -> None:
    now = api.clock.now()  # in June 2026
    up, down = now - dt.timedelta(minutes=30), now - dt.timedelta(minutes=10)
    api.store.states.record_changes(
        [(OperationEvent("nvr", when, "state", old, new, "test", {}),
          SavedState("nvr", new, when, when, "test"))
         for when, old, new in ((up, "pending", "up"), (down, "up", "down"))]
    )  # fmt: skip
    await api.down("nvr")  # seed-000
    month = {"contract": "seed-000", "month": "2026-06"}
    page = await api.call("GET", "/api/v1/reports/monthly", "cust", params=month)
    assert page.status_code == 200
    route = "/api/v1/reports/monthly/devices"
    assert f"{route}?contract=seed-000&amp;month=2026-06" in page.text

    got = await api.call("GET", route, "cust", params={**month, "lang": "en"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Site", "Device ID", "Device"]
    sites = {s.id for s in api.config.sites if s.contract == "seed-000"}
    mine = {d.id for d in api.config.devices if d.site in sites}
    assert mine and {row[1] for row in rows[1:]} == mine
    # Each device's figure is the one the report's own per-device table shows.
    md = await api.call("GET", "/api/v1/reports/monthly", "cust",
                        params={**month, "format": "md", "lang": "en"})  # fmt: skip
    for row in rows[1:]:
        shown = f"{row[8]} %" if row[8] else "no data"
        assert f"({row[1]}) | {row[3]} | {row[0]} |" in md.text
        line = next(ln for ln in md.text.splitlines() if f"({row[1]}) | {row[3]} |" in ln)
        assert line.endswith(f"| {shown} |"), (line, row)
    nvr = next(row for row in rows[1:] if row[1] == "nvr")
    assert 0 < float(nvr[8]) < 100  # up 20 minutes, down 10 before now

    printable = await api.call("GET", route, "cust", params={**month, "format": "html"})
    assert printable.status_code == 200 and all(f"({d})" in printable.text for d in mine)
    assert (await api.call("GET", route, "other-cust", params=month)).status_code == 404
    bad = await api.call("GET", route, params={**month, "month": "2026/06"})
    assert bad.status_code == 422 and "month" in bad.json()["detail"]
