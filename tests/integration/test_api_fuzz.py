"""No input makes the API answer 500 or anything but JSON: ids beyond 64 bits, years 1 and
9999, `for: 99999999999d`, lone surrogates and NULs, and hypothesis-made requests to every
route (issue 13, item 10)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from monitord.store import Store
from tests.support.apilab import CLIENTS, Api

ODD = [2**63, 2**64, -(2**63) - 1, -1, 0, 1e308, True, None, [], {}, "", "\x00",
       "\ud800", "a\udfffb", "99999999999d", "1e309s", "0001-01", "9999-12", "0001-01-01",
       "9999-12-31", "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00",
       "\x1b]0;x\x07", "=1+1", "../../etc/passwd", "%00"]  # fmt: skip
values = st.one_of(
    st.sampled_from(ODD),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=30),
    st.dates().map(lambda d: d.isoformat()),
)


def send(client: TestClient, api: Api, who: str, method: str, path: str,
         query: dict[str, Any], body: Any) -> None:  # fmt: skip
    headers = {"Authorization": f"Bearer {api.tokens[who]}", "Content-Type": "application/json"}
    url = path + ("?" + urllib.parse.urlencode(query, errors="surrogatepass") if query else "")
    content = None if body is None else json.dumps(body).encode()  # ASCII: surrogates escaped
    with capture_logs() as logs:
        response = client.request(method, url, headers=headers, content=content)
    assert response.status_code < 500, (method, url, body, response.text)
    assert not [e for e in logs if e["event"] == "api: unexpected error"], logs
    if response.status_code >= 400:
        assert isinstance(response.json()["detail"], str | list), response.text


@pytest.fixture
def lab(store: Store, monkeypatch: pytest.MonkeyPatch) -> Api:
    return Api(store, monkeypatch)


def routes(api: Api) -> list[tuple[str, str, list[str], list[str]]]:
    """(method, path, path params, query params and body fields) of every route, read from
    the OpenAPI document (FastAPI includes routers lazily: app.routes does not list them)."""
    spec = api.app.openapi()
    schemas = spec.get("components", {}).get("schemas", {})
    out = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            fields: list[str] = [p["name"] for p in params if p["in"] == "query"]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            name = body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
            fields += list(schemas.get(name, {}).get("properties", {}))
            path_params = [p["name"] for p in params if p["in"] == "path"]
            out.append((method.upper(), path, path_params, fields))
    return out


async def test_the_named_attacks_are_422(api: Api) -> None:
    ticket = await api.down("nvr")
    for path in [f"/api/v1/tickets/{2**63}", f"/api/v1/tickets/{2**64}/events",
                 f"/api/v1/reports/tickets/{2**63}", f"/api/v1/maintenance/{2**63}/end",
                 f"/api/v1/inspections/{2**63}"]:  # fmt: skip
        method = "POST" if path.endswith(("events", "end")) else "GET"
        answer = await api.call(method, path, "mgr", json={"kind": "comment", "by": "x"})
        assert answer.status_code == 422, (path, answer.text)
    assert (await api.call("GET", f"/api/v1/tickets/{2**63 - 1}")).status_code == 404
    for month in ["0001-01", "9999-12"]:
        monthly = await api.call("GET", "/api/v1/reports/monthly", "mgr",
                                 params={"contract": "seed-000", "month": month})  # fmt: skip
        assert monthly.status_code == 422 and "year" in monthly.json()["detail"], monthly.text
    for day in ["0001-01-01", "9999-12-31"]:
        log = await api.call("GET", "/api/v1/reports/log", "mgr",
                             params={"site": "s1", "from": day, "to": day})  # fmt: skip
        assert log.status_code == 422 and "year" in log.json()["detail"], log.text
    window = {"site": "s1", "for": "99999999999d", "reason": "r", "by": "li"}
    long = await api.call("POST", "/api/v1/maintenance", json=window)
    assert long.status_code == 422 and long.json()["detail"][0]["loc"] == ["body", "for"]
    late = await api.call("POST", "/api/v1/maintenance",
                          json={**window, "for": "1h", "start": "9999-12-31T23:30:00+00:00"})  # fmt: skip
    assert late.status_code == 422, late.text
    path = f"/api/v1/tickets/{ticket}/events"
    for text in ['"\\ud800"', '"a\\u0000b"']:
        body = ('{"kind": "comment", "by": "li", "text": ' + text + "}").encode()
        headers = {"Authorization": f"Bearer {api.tokens['eng']}",
                   "Content-Type": "application/json"}  # fmt: skip
        answer = await api.client.post(path, content=body, headers=headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"] == ["body", "text"]
    assert [e.kind for e in api.store.tickets.events(ticket)] == ["opened"]


async def test_an_unexpected_error_is_a_json_500_and_one_json_log_line(api: Api) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise ZeroDivisionError("a bug somewhere")

    api.store.devices.all = broken  # type: ignore[method-assign]
    with capture_logs() as logs:
        answer = await api.call("GET", "/api/v1/devices")
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal error; the daemon's log has the details"}
    [entry] = [e for e in logs if e["event"] == "api: unexpected error"]
    assert entry["path"] == "/api/v1/devices" and "ZeroDivisionError" in entry["error"]
    assert (await api.call("GET", "/healthz", None)).status_code == 200


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(data=st.data())
def test_fuzzed_requests_to_every_route_never_500(lab: Api, data: st.DataObject) -> None:
    table = routes(lab)
    assert len(table) >= 15
    method, path, path_params, fields = data.draw(st.sampled_from(table))
    for name in path_params:
        raw = data.draw(st.one_of(st.sampled_from([1, 2**63 - 1, 2**63, 2**64, 0, -1]),
                                  st.integers(min_value=-(2**70), max_value=2**70),
                                  st.text(min_size=1, max_size=20)))  # fmt: skip
        path = path.replace("{" + name + "}", urllib.parse.quote(str(raw), safe="",
                                                                 errors="surrogatepass"))  # fmt: skip
    chosen = data.draw(st.lists(st.sampled_from(fields), unique=True)) if fields else []
    given_values = {f: data.draw(values) for f in chosen}
    who = data.draw(st.sampled_from(sorted(CLIENTS)))
    with TestClient(lab.app) as client:
        if method == "GET":
            query = {k: v for k, v in given_values.items() if v is not None}
            send(client, lab, who, method, path, query, None)
        else:
            send(client, lab, who, method, path, {}, given_values)
