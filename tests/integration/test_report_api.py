"""The reports over the HTTP API: formats, and a customer sees only its own contract's."""

from __future__ import annotations

import csv
import io

from tests.support.apilab import Api


async def test_reports_by_role_and_format(api: Api) -> None:
    ticket = await api.down("nvr")  # seed-000, class A, June 2026
    assert (await api.act(ticket, "diagnose", text="硬盘故障,录像中断")).status_code == 201
    month = {"contract": "seed-000", "month": "2026-06"}

    page = await api.call("GET", "/api/v1/reports/monthly", params=month)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<svg" in page.text and "月度运维服务报告" in page.text
    md = await api.call("GET", "/api/v1/reports/monthly", "cust",
                        params={**month, "format": "md", "lang": "en"})  # fmt: skip
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "| A: system cannot run | 1 |" in md.text
    hidden = await api.call("GET", "/api/v1/reports/monthly", "other-cust", params=month)
    assert hidden.status_code == 404
    bad = await api.call("GET", "/api/v1/reports/monthly", params={**month, "month": "06/2026"})
    assert bad.status_code == 422 and "month" in bad.json()["detail"]
    unknown = await api.call("GET", "/api/v1/reports/monthly", params={**month, "contract": "x"})
    assert unknown.status_code == 422 and "seed-000" in unknown.json()["detail"]

    record = await api.call("GET", f"/api/v1/reports/tickets/{ticket}", "cust")
    assert record.status_code == 200 and "硬盘故障,录像中断" in record.text
    assert (
        await api.call("GET", f"/api/v1/reports/tickets/{ticket}", "other-cust")
    ).status_code == 404
    assert (await api.call("GET", "/api/v1/reports/tickets/9999")).status_code == 404

    days = {"from": "2026-06-01", "to": "2026-06-30"}
    log = await api.call("GET", "/api/v1/reports/log", "cust", params={**days, "site": "s1"})
    assert log.status_code == 200 and "attachment" in log.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(log.text.lstrip("\ufeff"))))
    assert any(str(ticket) in row for row in rows[1:])
    other = await api.call(
        "GET", "/api/v1/reports/log", "other-cust", params={**days, "site": "s1"}
    )
    assert other.status_code == 404
    mine_only = await api.call("GET", "/api/v1/reports/log", "cust",
                               params={**days, "contract": "seed-004"})  # fmt: skip
    assert mine_only.status_code == 404
    assert api.responses and api.tokens
    for response in api.responses:
        for token in api.tokens.values():
            assert token not in response.text


async def test_the_openapi_document_lists_the_report_endpoints(api: Api) -> None:
    spec = (await api.call("GET", "/api/v1/openapi.json")).json()
    for path in ("/api/v1/reports/monthly", "/api/v1/reports/tickets/{ticket_id}",
                 "/api/v1/reports/log"):  # fmt: skip
        assert path in spec["paths"]
