"""The web console through the real ASGI app on a real store: sign-in, sessions, CSRF,
lockout, the engineer's milestones, the customer's sign-off, and who may use which route."""

from __future__ import annotations

from typing import Any

import httpx

from monitord.console.routes import PUBLIC, ROUTES, console_router
from monitord.console.web import COOKIE
from tests.support.consolelab import PASSWORD, USERS, ConsoleLab, csrf_of


async def resolved(console: ConsoleLab, device: str = "nvr") -> int:
    ticket = await console.down(device)
    for kind in ("ack", "onsite", "resolve"):
        assert (await console.act(ticket, kind, "eng")).status_code == 201
    return ticket


async def test_sign_in_sets_a_strict_httponly_cookie_and_refuses_bad_passwords(
    console: ConsoleLab,
) -> None:
    client = console.browser()
    page = await client.get("/console/login")
    assert page.status_code == 200 and "content-security-policy" in page.headers
    wrong = await client.post("/console/login", data={"csrf": csrf_of(page.text),
                              "name": "eng", "password": "nope nope nope"})  # fmt: skip
    assert wrong.status_code == 303 and "error=bad_login" in wrong.headers["location"]
    assert COOKIE not in client.cookies
    good = await client.post("/console/login", data={"csrf": csrf_of(page.text),
                             "name": "eng", "password": PASSWORD})  # fmt: skip
    assert good.headers["location"] == "/console/mine"
    cookie = next(v for k, v in good.headers.multi_items() if v.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert (await client.get("/console/mine")).status_code == 200
    forged = console.browser()  # no login-CSRF cookie: a cross-site login form
    refused = await forged.post("/console/login", data={"csrf": "x", "name": "eng",
                                "password": PASSWORD})  # fmt: skip
    assert "error=expired" in refused.headers["location"] and COOKIE not in forged.cookies


async def test_secure_cookies_by_default(console: ConsoleLab) -> None:
    console.config = console.config.model_copy(
        update={"console": console.config.console.model_copy(update={"secure_cookies": True})}
    )
    client = console.browser()
    page = await client.get("/console/login")
    assert "secure" in page.headers["set-cookie"].lower()


async def test_lockout_after_repeated_failures_even_with_the_right_password(
    console: ConsoleLab,
) -> None:
    for _ in range(console.config.console.max_failures):
        await console.sign_in("eng", "wrong password!")
    locked = await console.sign_in("eng")
    assert COOKIE not in locked.cookies
    await console.clock.advance(console.config.console.lockout.total_seconds() + 1)
    assert COOKIE in (await console.sign_in("eng")).cookies


async def test_the_console_is_off_by_default(console: ConsoleLab) -> None:
    console.config = console.config.model_copy(
        update={"console": console.config.console.model_copy(update={"enabled": False})}
    )
    assert (await console.browser().get("/console/login")).status_code == 404


async def test_sessions_expire_and_sign_out_everywhere_ends_them_all(
    console: ConsoleLab,
) -> None:
    phone, desk = await console.sign_in("eng"), await console.sign_in("eng")
    mine = await phone.get("/console/mine")
    out = await phone.post("/console/logout/everywhere", data={"csrf": csrf_of(mine.text)})
    assert out.status_code == 303
    assert (await desk.get("/console/mine")).headers["location"] == "/console/login"
    later = await console.sign_in("eng")
    assert (await later.get("/console/mine")).status_code == 200
    await console.clock.advance(console.config.console.idle_timeout.total_seconds() + 1)
    assert (await later.get("/console/mine")).status_code == 303


async def test_engineer_acknowledges_with_a_post_as_themselves(console: ConsoleLab) -> None:
    ticket = await console.down("nvr")
    eng = await console.sign_in("eng")
    mine = await eng.get("/console/mine")
    assert f"/console/tickets/{ticket}" in mine.text
    page = await eng.get(f"/console/tickets/{ticket}")
    assert 'value="ack"' in page.text
    done = await eng.post(f"/console/tickets/{ticket}/act",
                          data={"csrf": csrf_of(page.text), "action": "ack"})  # fmt: skip
    assert done.status_code == 303
    again = await eng.post(f"/console/tickets/{ticket}/act",
                           data={"csrf": csrf_of(page.text), "action": "ack"})  # fmt: skip
    assert again.status_code == 409
    onway = await eng.post(f"/console/tickets/{ticket}/act",
                           data={"csrf": csrf_of(page.text), "action": "onway"})  # fmt: skip
    assert onway.status_code == 303
    events = console.store.tickets.events(ticket)
    assert [e.kind for e in events] == ["opened", "acknowledged", "comment"]
    assert events[1].by == "eng" and events[1].data["console_user"] == "eng"
    assert events[2].data["milestone"] == "en_route"


async def test_customer_approves_with_a_name_and_rejects_only_with_a_comment(
    console: ConsoleLab,
) -> None:
    ticket = await resolved(console)
    cust = await console.sign_in("cust-a")
    page = await cust.get(f"/console/tickets/{ticket}")
    csrf = csrf_of(page.text)
    path = f"/console/tickets/{ticket}/signoff"
    nameless = await cust.post(path, data={"csrf": csrf, "decision": "approve"})
    assert nameless.status_code == 422
    silent = await cust.post(path, data={"csrf": csrf, "decision": "reject"})
    assert silent.status_code == 422
    rejected = await cust.post(path, data={"csrf": csrf, "decision": "reject",
                               "comment": "camera 3 still dark"})  # fmt: skip
    assert rejected.status_code == 303
    record, events = console.store.tickets.get(ticket) or (None, [])
    assert record is not None and record.status == "open"
    assert events[-1].kind == "reopened" and events[-1].text == "camera 3 still dark"
    for kind in ("ack", "onsite", "resolve"):
        assert (await console.act(ticket, kind, "eng")).status_code == 201
    approved = await cust.post(path, data={"csrf": csrf, "decision": "approve",
                               "signer": "王经理"})  # fmt: skip
    assert approved.status_code == 303
    record, events = console.store.tickets.get(ticket) or (None, [])
    assert record is not None and record.status == "verified"
    assert events[-1].data["signed_by"] == "王经理" and events[-1].by == "cust-a"


async def test_no_engineer_or_manager_can_sign_as_the_customer(console: ConsoleLab) -> None:
    ticket = await resolved(console)
    for name in ("eng", "mgr", "disp"):
        client = await console.sign_in(name)
        page = await client.get(f"/console/tickets/{ticket}")
        tried = await client.post(f"/console/tickets/{ticket}/signoff",
                                  data={"csrf": csrf_of(page.text), "decision": "approve",
                                        "signer": "someone"})  # fmt: skip
        assert tried.status_code == 403, name
        forced = await client.post(f"/console/tickets/{ticket}/act",
                                   data={"csrf": csrf_of(page.text), "action": "verify"})  # fmt: skip
        assert forced.status_code in (403, 422), name
    assert console.store.tickets.get(ticket)[0].status == "resolved"  # type: ignore[index]


def concrete(path: str, ticket: int, site: str = "s1", device: str = "nvr") -> str:
    return (
        path.replace("{ticket_id}", str(ticket)).replace("{site}", site).replace("{device}", device)
    )


def console_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every console route the app serves, whichever router brought it
    (FastAPI keeps an included router whole: its routes are under `original_router`)."""
    out = set()
    for r in app.routes:
        inner = getattr(r, "original_router", None)
        for route in inner.routes if inner is not None else [r]:
            path = getattr(route, "path", "")
            if path.startswith("/console/"):
                out |= {(m, path) for m in getattr(route, "methods", ())}
    return out


async def test_authorisation_matrix_over_the_route_table(console: ConsoleLab) -> None:
    ours, theirs = await resolved(console, "nvr"), await resolved(console, "cam-x")  # A, B
    # "Probe now" really probes: the matrix's devices answer on loopback.
    here = tuple(d.model_copy(update={"address": "127.0.0.1"}) for d in console.config.devices)
    console.config = console.config.model_copy(update={"devices": here})
    routes = {(m, r.path) for r in console_router().routes for m in r.methods}  # type: ignore[attr-defined]
    assert routes <= set(ROUTES) | PUBLIC
    # Every console route on the app (each area's router, console/work.py, ...) is in the table.
    assert console_routes(console.app) == set(ROUTES) | PUBLIC
    clients = {name: await console.sign_in(name) for name in USERS}
    tokens = {n: csrf_of((await c.get("/console/tickets")).text) for n, c in clients.items()}
    checked = 0
    for (method, path), allowed in sorted(ROUTES.items()):
        if path.endswith("/stream") or "logout" in path:
            continue  # a stream does not end; sign-out is tested on its own
        for ticket, site, device in ((ours, "s1", "nvr"), (theirs, "s2", "cam-x")):
            url = concrete(path, ticket, site, device)
            anonymous = await console.browser().request(method, url)
            assert anonymous.status_code == 303, (method, url)
            assert anonymous.headers["location"] == "/console/login"
            for name, client in clients.items():
                role, contract = USERS[name]
                if method == "POST":
                    no_csrf = await client.post(url, data={"action": "ack"})
                    assert no_csrf.status_code == 403, (name, url)
                    answer = await client.post(url, data={"csrf": tokens[name]})
                else:
                    answer = await client.get(url)
                checked += 1
                foreign = (
                    ("{ticket_id}" in path or "{site}" in path)
                    and contract is not None
                    and ((ticket == ours) != (contract == "seed-000"))
                )
                if role not in allowed:
                    assert answer.status_code == 403, (name, method, url)
                elif foreign:
                    assert answer.status_code == 404, (name, method, url)
                else:
                    assert answer.status_code in (200, 303, 409, 422), (name, method, url)
    assert checked >= 70
    # The customer's own list names no other tenant's ticket.
    listing = await clients["cust-a"].get("/console/tickets")
    assert f"/console/tickets/{ours}" in listing.text
    assert f"/console/tickets/{theirs}" not in listing.text


async def test_wallboard_tiles_every_site_with_its_state(console: ConsoleLab) -> None:
    await console.down("nvr")
    disp = await console.sign_in("disp")
    board = await disp.get("/console/wallboard")
    assert board.status_code == 200 and board.text.count('class="tile') == 2
    assert "A:1" in board.text


async def test_language_follows_the_browser_and_the_switch(console: ConsoleLab) -> None:
    client: httpx.AsyncClient = console.browser()
    zh = await client.get("/console/login", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert "登录" in zh.text
    en = await client.get("/console/login", headers={"accept-language": "en-US,zh;q=0.5"})
    assert "Sign in" in en.text
    await client.get("/console/lang/zh?next=/console/login")
    assert "登录" in (await client.get("/console/login")).text
