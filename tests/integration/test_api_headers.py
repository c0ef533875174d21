"""Answers of the API are never sniffed, and its HTML (reports) cannot be framed and loads
nothing (issue 13, item 9), whoever asks and whatever the status."""

from __future__ import annotations

from tests.support.apilab import Api


async def test_html_is_unframeable_and_nothing_is_sniffed(api: Api) -> None:
    month = {"contract": "seed-000", "month": "2026-06"}
    page = await api.call("GET", "/api/v1/reports/monthly", params=month)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["x-content-type-options"] == "nosniff"
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    md = await api.call("GET", "/api/v1/reports/monthly", params={**month, "format": "md"})
    anonymous = await api.call("GET", "/api/v1/tickets", None)
    spec = await api.call("GET", "/api/v1/openapi.json")
    for response in (md, anonymous, spec):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in response.headers  # only HTML needs it
    assert anonymous.status_code == 401
