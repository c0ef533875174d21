"""WeCom, DingTalk and Feishu's OAuth endpoints on 127.0.0.1, in their documented shapes.

One HTTP server plays all three: the authorize pages (the browser's side: they redirect back
with a code and the state, as the user's app would after its silent consent) and the API
calls (the server's side). See monitord/console/oauth_wire.py for the documents each shape
comes from. Error bodies are the providers' own: WeCom's `{"errcode", "errmsg"}` on HTTP 200;
DingTalk's `{"code", "message", "requestid"}` on HTTP 400; Feishu's `{"code", "error",
"error_description"}` (token) and `{"code", "msg"}` (user_info). Codes are single-use, as
all three document.

`person` is who is signed in to each app; `break_step` makes one step fail ("garbage": 200
with an HTML page, "slow": an answer later than the client waits, "error": the provider's
error body); `calls` records each API request with its parameters, for the assertions.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.peers.notify import serve

WECOM = {"corp_id": "ww0123456789abcdef", "agent_id": "1000002", "secret": "wecom-app-s3cret-Q9"}
DINGTALK = {"client_id": "dingabcdefghijkl", "secret": "dingtalk-app-s3cret-Z7"}
FEISHU = {"app_id": "cli_a5ca35a685b0x26e", "secret": "feishu-app-s3cret-K4"}
SLOW = 1.0  # seconds: longer than the tests' client timeout


@dataclass
class Providers:
    url: str = ""
    person: dict[str, dict[str, str]] = field(default_factory=lambda: {
        "wecom": {"userid": "zhangsan"},
        "dingtalk": {"unionId": "dt-union-li", "nick": "李工", "openId": "dt-open-li"},
        "feishu": {"open_id": "ou_7d8a6e6df7621556ce0d21922b676706", "name": "王工"},
    })  # fmt: skip
    break_step: dict[str, str] = field(default_factory=dict)  # step -> garbage|slow|error
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    codes: dict[str, tuple[str, dict[str, str], str]] = field(default_factory=dict)
    tokens: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # A page that moves on by itself, as a consent page does, instead of a bare redirect: the
    # callback is then a navigation the provider's site started (what SameSite looks at).
    consent_page: bool = False

    def steps(self, step: str) -> int:
        return sum(1 for s, _ in self.calls if s == step)

    # --- the browser's side ---

    def authorize(self, provider: str, query: dict[str, str]) -> tuple[int, str]:
        """A redirect to the app's callback (the user consents), or 400 for a bad request."""
        expected = {
            "wecom": {"appid": WECOM["corp_id"], "agentid": WECOM["agent_id"],
                      "response_type": "code", "scope": "snsapi_base"},
            "dingtalk": {"client_id": DINGTALK["client_id"], "response_type": "code",
                         "scope": "openid", "prompt": "consent"},
            "feishu": {"client_id": FEISHU["app_id"], "response_type": "code"},
        }[provider]  # fmt: skip
        wrong = [k for k, v in expected.items() if query.get(k) != v]
        redirect = query.get("redirect_uri", "")
        if wrong or not redirect.startswith(("http://", "https://")):
            return 400, f"bad authorize request: {wrong or 'redirect_uri'}"
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = (provider, dict(self.person[provider]), redirect)
        name = "authCode" if provider == "dingtalk" else "code"  # DingTalk returns authCode
        back = {name: code, **({"state": query["state"]} if "state" in query else {})}
        return 302, f"{redirect}{'&' if '?' in redirect else '?'}{urlencode(back)}"

    def _use_code(self, provider: str, code: str) -> tuple[dict[str, str], str] | None:
        with self.lock:
            found = self.codes.pop(code, None)
        if found is None or found[0] != provider:
            return None
        return found[1], found[2]

    def _token(self, provider: str, person: dict[str, str]) -> str:
        token = f"{provider[:2]}-{secrets.token_hex(12)}"
        with self.lock:
            self.tokens[token] = (provider, person)
        return token

    def _person(self, provider: str, token: str) -> dict[str, str] | None:
        found = self.tokens.get(token)
        return found[1] if found and found[0] == provider else None

    # --- the API side: (status, JSON body) ---

    def wecom_gettoken(self, q: dict[str, str]) -> tuple[int, Any]:
        if q.get("corpid") != WECOM["corp_id"]:
            return 200, {"errcode": 40013, "errmsg": "invalid corpid"}
        if q.get("corpsecret") != WECOM["secret"]:
            return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}  # fmt: skip
        token = self._token("wecom", {})
        return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def wecom_getuserinfo(self, q: dict[str, str]) -> tuple[int, Any]:
        if self._person("wecom", q.get("access_token", "")) is None:
            return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
        used = self._use_code("wecom", q.get("code", ""))
        if used is None:
            return 200, {"errcode": 40029, "errmsg": "invalid code"}
        return 200, {"errcode": 0, "errmsg": "ok", **used[0]}

    def dingtalk_token(self, body: dict[str, Any]) -> tuple[int, Any]:
        rid = secrets.token_hex(8)
        if body.get("clientId") != DINGTALK["client_id"] or body.get("clientSecret") != DINGTALK["secret"]:  # fmt: skip
            return 400, {"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret", "requestid": rid}  # fmt: skip
        used = self._use_code("dingtalk", str(body.get("code", "")))
        if used is None or body.get("grantType") != "authorization_code":
            return 400, {"code": "invalidAuthCode", "message": "不合法的临时授权码", "requestid": rid}  # fmt: skip
        token = self._token("dingtalk", used[0])
        return 200, {"accessToken": token, "refreshToken": secrets.token_hex(8), "expireIn": 7200,
                     "corpId": "ding-corp-1"}  # fmt: skip

    def dingtalk_me(self, headers: dict[str, str]) -> tuple[int, Any]:
        person = self._person("dingtalk", headers.get("x-acs-dingtalk-access-token", ""))
        if person is None:
            return 401, {"code": "InvalidAuthentication", "message": "不合法的access_token", "requestid": "r1"}  # fmt: skip
        return 200, {"mobile": "13800000000", "stateCode": "86", **person}

    def feishu_token(self, body: dict[str, Any]) -> tuple[int, Any]:
        if body.get("client_id") != FEISHU["app_id"] or body.get("client_secret") != FEISHU["secret"]:  # fmt: skip
            return 400, {"code": 20002, "error": "invalid_client", "error_description": "The client secret is invalid."}  # fmt: skip
        used = self._use_code("feishu", str(body.get("code", "")))
        if used is None or body.get("grant_type") != "authorization_code":
            return 400, {"code": 20003, "error": "invalid_grant", "error_description": "The authorization code is not found. Please note that an authorization code can only be used once."}  # fmt: skip
        if body.get("redirect_uri") != used[1]:
            return 400, {"code": 20071, "error": "invalid_grant", "error_description": "The redirect_uri does not match."}  # fmt: skip
        token = self._token("feishu", used[0])
        return 200, {"code": 0, "access_token": token, "expires_in": 7200, "token_type": "Bearer",
                     "scope": "auth:user.id:read"}  # fmt: skip

    def feishu_user_info(self, headers: dict[str, str]) -> tuple[int, Any]:
        kind, _, token = headers.get("authorization", "").partition(" ")
        person = self._person("feishu", token) if kind == "Bearer" else None
        if person is None:
            return 400, {"code": 99991663, "msg": "Invalid access token for authorization. Please make a request with token attached."}  # fmt: skip
        return 200, {"code": 0, "msg": "success", "data": {"tenant_key": "736588c9260f175d", **person}}  # fmt: skip


ROUTES = {
    ("GET", "/cgi-bin/gettoken"): ("gettoken", "wecom_gettoken", "query"),
    ("GET", "/cgi-bin/auth/getuserinfo"): ("getuserinfo", "wecom_getuserinfo", "query"),
    ("POST", "/v1.0/oauth2/userAccessToken"): ("userAccessToken", "dingtalk_token", "json"),
    ("GET", "/v1.0/contact/users/me"): ("users/me", "dingtalk_me", "headers"),
    ("POST", "/open-apis/authen/v2/oauth/token"): ("oauth/token", "feishu_token", "json"),
    ("GET", "/open-apis/authen/v1/user_info"): ("user_info", "feishu_user_info", "headers"),
}
AUTHORIZE = {"/connect/oauth2/authorize": "wecom", "/oauth2/auth": "dingtalk",
             "/open-apis/authen/v1/authorize": "feishu"}  # fmt: skip


@contextmanager
def oauth_providers() -> Iterator[Providers]:
    peer = Providers()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if method == "GET" and parts.path in AUTHORIZE:
                code, where = peer.authorize(AUTHORIZE[parts.path], query)
                if code == 302 and peer.consent_page:
                    page = f'<meta http-equiv="refresh" content="0;url={html.escape(where)}">'
                    self._send(200, page.encode(), "text/html")
                    return
                self.send_response(code)
                if code == 302:
                    self.send_header("Location", where)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            route = ROUTES.get((method, parts.path))
            if route is None:
                self._send(404, b'{"errcode": 404}', "application/json")
                return
            step, handler, source = route
            length = int(self.headers.get("Content-Length", 0) or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            given: Any = {"query": query, "headers": headers}[source] if source != "json" else (
                json.loads(raw or b"{}"))  # fmt: skip
            peer.calls.append((step, given))
            broken = peer.break_step.get(step)
            if broken == "slow":
                time.sleep(SLOW)
            if broken == "garbage":
                self._send(200, b"<html>502 Bad Gateway (nginx)</html>", "text/html")
                return
            status, body = getattr(peer, handler)(given)
            if broken == "error":
                status, body = 503, {"code": 503, "errcode": 503, "msg": "busy", "message": "busy",
                                     "errmsg": "system busy"}  # fmt: skip
            self._send(status, json.dumps(body, ensure_ascii=False).encode(), "application/json")

        def _send(self, status: int, data: bytes, kind: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (the timeout test)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, *_: Any) -> None:
            pass

    with serve(Handler) as url:
        peer.url = url
        yield peer
