"""The device page (archive, tickets, hourly charts with the forecast line), "probe now"
against a real loopback peer, and the dispatcher's desk (on call, windows, monthly report),
through the real ASGI app on a real store."""

from __future__ import annotations

import datetime as dt
import re

from monitord.config.oncall import OnCall, Person, Rotation
from monitord.console import charts, device_view
from monitord.prevention import history as H
from monitord.store.records import MetricHour
from tests.support.consolelab import ConsoleLab, csrf_of


def seed(console: ConsoleLab, device: str, metric: str, values: list[float]) -> list[int]:
    """Hourly means ending in the hour before now; returns their hours."""
    now_hour = H.hour_of(console.clock.now())
    hours = [now_hour - len(values) + i for i in range(len(values))]
    console.store.metric_history.add(
        [
            MetricHour(device, metric, "", h, 2, 2 * v, v, v)
            for h, v in zip(hours, values, strict=True)
        ]
    )
    return hours


def on_loopback(console: ConsoleLab) -> None:
    here = tuple(d.model_copy(update={"address": "127.0.0.1"}) for d in console.config.devices)
    console.config = console.config.model_copy(update={"devices": here})


def chart_of(page: str, key: str) -> str:
    found = re.search(rf'<svg[^>]*data-chart="{re.escape(key)}".*?</svg>', page, re.DOTALL)
    assert found, key
    return found.group(0)


async def test_device_page_is_read_by_its_tenant_only(console: ConsoleLab) -> None:
    ticket = await console.down("nvr")
    a, other, staff = [await console.sign_in(n) for n in ("cust-a", "cust-b", "eng")]
    own = await a.get("/console/devices/s1/nvr")
    assert own.status_code == 200
    assert "NVR" in own.text and f"/console/tickets/{ticket}" in own.text
    assert "10.0.0.2" in own.text  # the archive's address
    assert (await other.get("/console/devices/s1/nvr")).status_code == 404
    assert (await other.get("/console/devices/s2/cam-x")).status_code == 200
    assert (await other.get("/console/devices/s2/nvr")).status_code == 404  # not that site's
    page = await staff.get(f"/console/tickets/{ticket}")
    assert 'href="/console/devices/s1/nvr"' in page.text  # the ticket links its root device


async def test_chart_shows_the_seeded_hours_and_the_forecast_line_of_a_rise(
    console: ConsoleLab,
) -> None:
    rising = [0.5 + 0.2 * i for i in range(36)]  # loss %, noiseless: a clear rise
    seed(console, "nvr", H.LOSS, rising)
    flat = [20.0 + (3.0 if i % 2 else -3.0) for i in range(36)]  # RTT ms: noise, no trend
    seed(console, "nvr", H.RTT, flat)
    eng = await console.sign_in("eng")
    page = (await eng.get("/console/devices/s1/nvr")).text
    loss = chart_of(page, f"{H.LOSS}:")
    series = re.search(r'class="series" points="([^"]+)"', loss)
    assert series
    ys = [float(p.split(",")[1]) for p in series.group(1).split()]
    assert len(ys) == len(rising) and ys == sorted(ys, reverse=True)  # rising: up the SVG
    assert 'class="forecast"' in loss and 'class="limit"' in loss
    assert "<title" in loss and 'role="img"' in loss
    rtt = chart_of(page, f"{H.RTT}:")
    assert 'class="series"' in rtt and 'class="forecast"' not in rtt
    # The shapes behind the SVG: the seeded means, and the forecaster's line reaching 10 %.
    found = device_view.device_charts(console.store, console.config, console.config.sites[0],
                                      next(d for d in console.config.devices if d.id == "nvr"),
                                      console.clock.now(), "en")  # fmt: skip
    chart = next(c for c in found if c.key == f"{H.LOSS}:")
    assert [round(p.value, 6) for p in chart.points] == [round(v, 6) for v in rising]
    assert chart.forecast is not None
    start, end = chart.forecast
    assert abs(start.value - rising[0]) < 1e-6 and abs(end.value - 10.0) < 1e-6


def test_svg_maps_points_onto_the_plot_box() -> None:
    chart = charts.Chart("k:", "Loss", "%", charts.points([(10, 0.0), (11, 5.0)]), None, None)
    drawn = str(charts.svg(chart, "UTC", "time"))
    [points] = re.findall(r'class="series" points="([^"]+)"', drawn)
    (x0, y0), (x1, y1) = (tuple(map(float, p.split(","))) for p in points.split())
    assert x0 == charts._LEFT and x1 == charts.W - charts._RIGHT
    assert y0 == charts.H - charts._BOTTOM and y1 < y0  # zero at the bottom, 5 % above
    assert "forecast" not in drawn


async def test_probe_now_runs_the_probe_once_per_device_and_gap(console: ConsoleLab) -> None:
    on_loopback(console)
    eng = await console.sign_in("eng")
    page = await eng.get("/console/devices/s1/nvr")
    done = await eng.post("/console/devices/s1/nvr/probe", data={"csrf": csrf_of(page.text)})
    assert done.status_code == 303 and "done=probed" in done.headers["location"]
    shown = (await eng.get(done.headers["location"])).text
    assert 'id="probe-result"' in shown and "ICMP: up" in shown and "RTT" in shown
    again = await eng.post("/console/devices/s1/nvr/probe", data={"csrf": csrf_of(page.text)})
    assert "done=probe_too_soon" in again.headers["location"]
    await console.clock.advance(6)
    later = await eng.post("/console/devices/s1/nvr/probe", data={"csrf": csrf_of(page.text)})
    assert "done=probed" in later.headers["location"]
    no_csrf = await eng.post("/console/devices/s1/nvr/probe", data={"go": "1"})
    assert no_csrf.status_code == 403


async def test_customers_cannot_probe_and_a_poller_site_says_so(console: ConsoleLab) -> None:
    on_loopback(console)
    for name in ("cust-a", "cust-b"):
        client = await console.sign_in(name)
        token = csrf_of((await client.get("/console/tickets")).text)
        for url in ("/console/devices/s1/nvr/probe", "/console/devices/s2/cam-x/probe"):
            assert (await client.post(url, data={"csrf": token})).status_code == 403
    sites = tuple(s.model_copy(update={"poller": "edge-1"}) if s.id == "s2" else s
                  for s in console.config.sites)  # fmt: skip
    console.config = console.config.model_copy(update={"sites": sites})
    disp = await console.sign_in("disp")
    page = await disp.get("/console/devices/s2/cam-x")
    assert "site poller" in page.text and "/probe" not in page.text
    answer = await disp.post("/console/devices/s2/cam-x/probe", data={"csrf": csrf_of(page.text)})
    assert "done=probe_remote" in answer.headers["location"]


async def test_dispatcher_sees_who_is_on_call_now_and_next(console: ConsoleLab) -> None:
    oncall = OnCall(
        people=(Person(id="li", name="Li Lei"), Person(id="wang", name="Wang Fang")),
        rotations=(Rotation(id="day", contracts=("seed-000",), handover="daily",
                            start=dt.date(2026, 5, 1), people=("li", "wang")),),
    )  # fmt: skip
    notify = console.config.notify.model_copy(update={"oncall": oncall})
    console.config = console.config.model_copy(update={"notify": notify})
    disp = await console.sign_in("disp")
    page = (await disp.get("/console/ops")).text
    # 2026-06-01 10:00 in Shanghai: the 31st daily turn since May 1st is Wang's, then Li's.
    row = re.search(r"<tr><td>Site<br>.*?</tr>", page, re.DOTALL)
    assert row and "Wang Fang" in row.group(0) and "Li Lei" in row.group(0)
    assert row.group(0).index("Wang Fang") < row.group(0).index("Li Lei")
    assert "2026-06-02 09:00:00" in row.group(0)
    cust = await console.sign_in("cust-a")
    assert (await cust.get("/console/ops")).status_code == 403


async def test_windows_start_and_end_now_as_the_signed_in_user(console: ConsoleLab) -> None:
    disp = await console.sign_in("disp")
    token = csrf_of((await disp.get("/console/ops")).text)
    bad = await disp.post("/console/ops/windows", data={"csrf": token, "site": "s1",
                          "length": "30m", "reason": ""})  # fmt: skip
    assert "done=window_bad" in bad.headers["location"]
    assert console.store.windows.ending_after(console.clock.now()) == []
    started = await disp.post("/console/ops/windows", data={"csrf": token, "site": "s1",
                              "length": "30m", "reason": "switch firmware"})  # fmt: skip
    assert "done=window_started" in started.headers["location"]
    [w] = console.store.windows.ending_after(console.clock.now())
    assert (w.site_id, w.created_by, w.reason) == ("s1", "disp", "switch firmware")
    assert w.ends_at - w.starts_at == dt.timedelta(minutes=30)
    listed = (await disp.get("/console/ops")).text
    assert f"/console/ops/windows/{w.id}/end" in listed and "switch firmware" in listed
    await console.clock.advance(60)
    ended = await disp.post(f"/console/ops/windows/{w.id}/end", data={"csrf": token,
                            "reason": "done early"})  # fmt: skip
    assert "done=window_ended" in ended.headers["location"]
    stored = console.store.windows.get(w.id)
    assert stored is not None and stored.ends_at == console.clock.now()
    eng = await console.sign_in("eng")
    refused = await eng.post("/console/ops/windows", data={"csrf": token})
    assert refused.status_code == 403


async def test_manager_opens_a_contracts_monthly_report(console: ConsoleLab) -> None:
    await console.down("nvr")
    mgr = await console.sign_in("mgr")
    month = console.clock.now().strftime("%Y-%m")
    report = await mgr.get(f"/console/ops/monthly?contract=seed-000&month={month}")
    assert report.status_code == 200 and "<h1>" in report.text
    assert (await mgr.get("/console/ops/monthly?contract=seed-000&month=13")).status_code == 422
    cust = await console.sign_in("cust-a")
    assert (
        await cust.get(f"/console/ops/monthly?contract=seed-000&month={month}")
    ).status_code == 403


async def test_the_wallboard_tile_leads_to_the_site_and_its_devices(console: ConsoleLab) -> None:
    disp = await console.sign_in("disp")
    board = await disp.get("/console/wallboard")
    assert 'href="/console/devices/s1"' in board.text
    site = await disp.get("/console/devices/s1")
    assert 'href="/console/devices/s1/nvr"' in site.text and "cam-x" not in site.text
    cust = await console.sign_in("cust-b")
    assert (await cust.get("/console/devices/s1")).status_code == 404
    assert 'href="/console/devices/s2/cam-x"' in (await cust.get("/console/devices/s2")).text
