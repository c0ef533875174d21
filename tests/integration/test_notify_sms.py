"""SMS against a local HTTP server speaking each gateway's format: a generic JSON/form/GET
gateway, Aliyun SendSms (signature V1 checked by the server) and Tencent Cloud SendSms
(TC3-HMAC-SHA256 checked by the server); failing with 500s and timeouts, then succeeding."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from monitord.clock import FakeClock
from monitord.config.delivery import Grouping, SmsChannel
from monitord.config.notify import NotifySettings
from monitord.notify.channels import DeliveryError
from monitord.notify.channels.sms import SmsGateway, aliyun_sign, tc3_signature
from monitord.notify.dispatcher import Dispatcher
from monitord.store import Store
from monitord.store.records import OutboxMessage, OutboxRecord
from tests.peers.notify import serve
from tests.support.ticket_records import CAM, NVR, SITES, SW, T0, draft, opened

PHONE = "+8613800138000"
LONG = "[A级] 工单 #7 新工单: " + "南门摄像机离线 " * 30


@dataclass
class Gateway:
    """Replies (status, JSON, delay) in turn, the last repeating; `check` may refuse a
    request (returns an error reply) before it counts as delivered."""

    replies: list[tuple[int, dict[str, Any], float]] = field(
        default_factory=lambda: [(200, {}, 0.0)]
    )
    check: Any = None
    delivered: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0


@contextmanager
def gateway(peer: Gateway) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            peer.attempts += 1
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            request = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "raw": raw,
            }
            status, reply, delay = peer.replies.pop(0) if len(peer.replies) > 1 else peer.replies[0]
            refused = peer.check(request) if peer.check else None
            if refused is not None:
                status, reply = refused
            elif status == 200 and not delay:
                peer.delivered.append(request)
            time.sleep(delay)
            data = json.dumps(reply).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (a timeout)

        do_GET = do_POST = _any

        def log_message(self, *_: Any) -> None:
            pass

    with serve(Handler) as url:
        yield url


def sms(**values: Any) -> SmsChannel:
    return SmsChannel.model_validate(
        {"type": "sms", "name": "sms", "allow_addresses": ["127.0.0.1"]} | values
    )


def message(text: str = "[A级] 工单 #7 新工单: NVR 离线") -> OutboxMessage:
    return OutboxMessage(
        7, "7/1/sms/" + PHONE, 7, "sms", PHONE, text, text, T0, T0, 1, "sending", None, None, None
    )


@pytest.fixture
def fleet(store: Store) -> Store:
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    return store


async def test_generic_gateway_500_then_timeout_then_delivers_once(
    fleet: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMS_TOKEN", "Bearer t0ken")
    peer = Gateway(replies=[(500, {}, 0.0), (200, {"code": 0}, 1.0), (200, {"code": 0}, 0.0)])
    with gateway(peer) as base:
        channel = sms(
            url=f"{base}/send",
            headers={"Authorization": {"env": "SMS_TOKEN"}},
            body={"mobile": "{phone}", "content": "{text}", "sign": "监控中心"},
            success_field="code",
            success_values=["0"],
            timeout=0.3,
        )
        settings = NotifySettings(channels=(channel,), grouping=Grouping(enabled=False))
        fleet.tickets.open(draft(), opened(), [OutboxRecord("sms", PHONE, LONG, LONG[:140])])
        clock = FakeClock(T0)
        dispatcher = Dispatcher(fleet, clock, settings)
        for _ in range(6):
            await dispatcher.pass_once()
            await clock.advance(60)
    [request] = peer.delivered
    assert peer.attempts == 3
    body = json.loads(request["raw"])
    assert body == {"mobile": PHONE, "content": LONG[:140], "sign": "监控中心"}
    assert request["headers"]["authorization"] == "Bearer t0ken"
    [row] = fleet.outbox.messages()
    assert (row.state, row.attempts) == ("sent", 3)
    assert request["headers"]["idempotency-key"] == row.idempotency_key


async def test_generic_form_and_get_requests() -> None:
    peer = Gateway()
    with gateway(peer) as base:
        await SmsGateway(sms(url=f"{base}/f", encoding="form")).send(message("a {text} & b"))
        await SmsGateway(sms(url=f"{base}/g?user=u", method="GET")).send(message("x y"))
    form, get = peer.delivered
    assert dict(parse_qsl(form["raw"].decode())) == {"to": PHONE, "text": "a {text} & b"}
    assert form["headers"]["content-type"] == "application/x-www-form-urlencoded"
    query = dict(parse_qsl(urlsplit(get["path"]).query))
    assert get["method"] == "GET" and query == {"user": "u", "to": PHONE, "text": "x y"}


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        ((400, {}), True),
        ((404, {}), True),
        ((429, {}), False),
        ((503, {}), False),
        ((200, {"status": "busy"}), False),
        ((200, {"status": "bad-number"}), True),
        ((200, {"result": "sent"}), False),  # no status at all: we cannot tell
    ],
)
async def test_generic_failures_are_classified(
    reply: tuple[int, dict[str, Any]], permanent: bool
) -> None:
    peer = Gateway(replies=[(*reply, 0.0)])
    with gateway(peer) as base, pytest.raises(DeliveryError) as caught:
        channel = sms(
            url=f"{base}/s", success_field="status", success_values=["ok"], retry_values=["busy"]
        )
        await SmsGateway(channel).send(message())
    assert caught.value.permanent is permanent


def aliyun_check(secret: str) -> Any:
    def check(request: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        params = dict(parse_qsl(request["raw"].decode(), keep_blank_values=True))
        signature = params.pop("Signature", "")
        if signature != aliyun_sign("POST", params, secret):
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature..."}
        return None

    return check


async def test_aliyun_send_sms_signed_and_classified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIYUN_SECRET", "testsecret")
    ok = {"Code": "OK", "Message": "OK", "BizId": "9006197469364984400", "RequestId": "F655A8D5"}
    peer = Gateway(
        replies=[
            (200, ok, 0.0),
            (400, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"}, 0.0),
            (400, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}, 0.0),
        ],
        check=aliyun_check("testsecret"),
    )
    with gateway(peer) as base:
        channel = SmsGateway(
            sms(
                provider="aliyun",
                url=f"{base}/",
                key_id="testid",
                key_secret={"env": "ALIYUN_SECRET"},
                sign_name="监控中心",
                template="SMS_153055065",
            )
        )
        await channel.send(message(LONG))
        with pytest.raises(DeliveryError) as limited:
            await channel.send(message())
        with pytest.raises(DeliveryError) as illegal:
            await channel.send(message())
    assert not limited.value.permanent and "BUSINESS_LIMIT_CONTROL" in str(limited.value)
    assert illegal.value.permanent
    params = dict(parse_qsl(peer.delivered[0]["raw"].decode()))
    assert {k: params[k] for k in ("Action", "Version", "PhoneNumbers", "SignName")} == {
        "Action": "SendSms", "Version": "2017-05-25", "PhoneNumbers": PHONE, "SignName": "监控中心",
    }  # fmt: skip
    assert params["TemplateCode"] == "SMS_153055065" and params["AccessKeyId"] == "testid"
    assert json.loads(params["TemplateParam"]) == {"text": LONG[:35]}


async def test_aliyun_missing_or_wrong_secret_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    peer = Gateway(check=aliyun_check("the-real-secret"))
    with gateway(peer) as base:
        channel = SmsGateway(
            sms(
                provider="aliyun",
                url=f"{base}/",
                key_id="id",
                key_secret={"env": "ALI_SECRET"},
                sign_name="s",
                template="t",
            )
        )
        with pytest.raises(DeliveryError) as unset:  # not even there: nothing is sent
            await channel.send(message())
        assert not unset.value.permanent and peer.attempts == 0
        monkeypatch.setenv("ALI_SECRET", "a-wrong-s3cret")
        with pytest.raises(DeliveryError) as wrong:  # the server refuses the signature
            await channel.send(message())
    assert not wrong.value.permanent and "SignatureDoesNotMatch" in str(wrong.value)
    assert peer.attempts == 1 and "s3cret" not in str(wrong.value)


def test_aliyun_signature_matches_the_documented_example() -> None:
    # Alibaba Cloud's "RPC signature" documentation: DescribeRegions with testid/testsecret.
    params = {
        "AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
    }  # fmt: skip
    assert aliyun_sign("GET", params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_tc3_signature_matches_the_documented_example() -> None:
    # Tencent Cloud API 3.0 "Signature v3" documentation, the CVM example.
    to_sign = (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    assert (
        tc3_signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "2019-02-25", "cvm", to_sign)
        == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def tencent_check(secret_id: str, secret_key: str) -> Any:
    """The server side of TC3-HMAC-SHA256, rebuilt from what arrived."""

    def check(request: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        h = request["headers"]
        timestamp = int(h["x-tc-timestamp"])
        date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
        canonical = (
            f"POST\n/\n\ncontent-type:{h['content-type']}\nhost:{h['host']}\n\n"
            f"content-type;host\n{hashlib.sha256(request['raw']).hexdigest()}"
        )
        to_sign = (
            f"TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n"
            f"{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        signature = tc3_signature(secret_key, date, "sms", to_sign)
        expected = (
            f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/sms/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={signature}"
        )
        if h.get("authorization") != expected or h.get("x-tc-action") != "SendSms":
            error = {"Code": "AuthFailure.SignatureFailure", "Message": "签名验证失败"}
            return 200, {"Response": {"Error": error, "RequestId": "r"}}
        return None

    return check


async def test_tencent_send_sms_signed_and_classified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TC_KEY", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE")
    status = {"SerialNo": "5000:1", "PhoneNumber": PHONE, "Fee": 1, "Code": "Ok"}
    bad_number = status | {"Code": "InvalidParameterValue.IncorrectPhoneNumber"}
    peer = Gateway(
        replies=[
            (500, {}, 0.0),
            (200, {"Response": {"SendStatusSet": [status], "RequestId": "a"}}, 0.0),
            (200, {"Response": {"SendStatusSet": [bad_number], "RequestId": "b"}}, 0.0),
        ],
        check=tencent_check("AKIDexample", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
    )
    with gateway(peer) as base:
        channel = SmsGateway(
            sms(
                provider="tencent",
                url=f"{base}/",
                key_id="AKIDexample",
                key_secret={"env": "TC_KEY"},
                app_id="1400006666",
                sign_name="监控中心",
                template="1234",
            )
        )
        with pytest.raises(DeliveryError) as down:
            await channel.send(message())
        await channel.send(message())
        with pytest.raises(DeliveryError) as wrong:
            await channel.send(message())
    assert not down.value.permanent and wrong.value.permanent
    body = json.loads(peer.delivered[0]["raw"])
    assert body == {
        "PhoneNumberSet": [PHONE], "SmsSdkAppId": "1400006666", "SignName": "监控中心",
        "TemplateId": "1234", "TemplateParamSet": ["[A级] 工单 #7 新工单: NVR 离线"],
    }  # fmt: skip
    headers = peer.delivered[0]["headers"]
    assert (headers["x-tc-version"], headers["x-tc-region"]) == ("2021-01-11", "ap-guangzhou")


async def test_tencent_bad_credentials_are_transient_and_the_key_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TC_KEY", "wrong-key-s3cret")
    peer = Gateway(check=tencent_check("AKIDexample", "right-key"))
    with gateway(peer) as base:
        channel = sms(
            provider="tencent", url=f"{base}/", key_id="AKIDexample", key_secret={"env": "TC_KEY"},
            app_id="1", sign_name="s", template="1",
        )  # fmt: skip
        with pytest.raises(DeliveryError) as caught:
            await SmsGateway(channel).send(message())
    assert not caught.value.permanent and "AuthFailure" in str(caught.value)
    assert "s3cret" not in str(caught.value)


async def test_loopback_gateway_refused_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_URL", "http://127.0.0.1:9/send?token=s3cret")
    channel = sms(url={"env": "SMS_URL"}, allow_addresses=[])
    with pytest.raises(DeliveryError) as caught:
        await SmsGateway(channel).send(message())
    assert caught.value.permanent and "refused addresses" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    with pytest.raises(DeliveryError, match="refused addresses"):
        await SmsGateway(sms(url="http://169.254.169.254/latest", allow_addresses=[])).send(
            message()
        )


def test_presets_say_what_they_miss() -> None:
    with pytest.raises(ValueError, match="needs key_id, key_secret, sign_name, template, app_id"):
        sms(provider="tencent")
    with pytest.raises(ValueError, match="needs its url"):
        sms()
