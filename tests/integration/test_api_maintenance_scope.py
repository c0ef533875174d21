"""A customer sees only the maintenance windows scoped to its own sites: another contract's
and fleet-wide windows (and their reasons) stay hidden (issue 13, item 11)."""

from __future__ import annotations

from tests.support.apilab import Api


async def test_a_customer_sees_only_windows_of_its_own_sites(api: Api) -> None:
    windows = {
        "fleet": {"kind": "camera", "for": "1h", "reason": "fleet-wide firmware push"},
        "ours": {"site": "s1", "for": "1h", "reason": "our gate"},
        "our-device": {"device": "nvr", "for": "1h", "reason": "our recorder"},
        "theirs": {"site": "s2", "for": "1h", "reason": "the estate's fence"},
    }
    ids = {}
    for name, body in windows.items():
        created = await api.call("POST", "/api/v1/maintenance", "eng", json={**body, "by": "li"})
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]

    def seen(who: str) -> set[int]:
        return {w["id"] for w in listed[who]}

    listed = {}
    for who in ("mgr", "cust", "other-cust"):
        response = await api.call("GET", "/api/v1/maintenance", who)
        assert response.status_code == 200
        listed[who] = response.json()
    assert seen("mgr") == set(ids.values())
    assert seen("cust") == {ids["ours"], ids["our-device"]}
    assert seen("other-cust") == {ids["theirs"]}
    for who in ("cust", "other-cust"):
        assert "fleet-wide" not in str(listed[who])
