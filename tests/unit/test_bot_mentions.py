"""A page to a person on a group bot @-mentions them, in each bot's documented format."""

from __future__ import annotations

import datetime as dt

from monitord.notify.channels.bots import body_for
from monitord.store.records import OutboxMessage

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def message(recipient: str) -> OutboxMessage:
    return OutboxMessage(
        1, f"7/1/chat/{recipient}", 7, "chat", recipient, "s", "NVR down", AT, AT, 1,
        "sending", None, None, None,
    )  # fmt: skip


def test_wecom_mentions_by_user_id_or_mobile() -> None:
    assert body_for("wecom", message("zhangwei"), None)[0]["text"] == {
        "content": "NVR down", "mentioned_list": ["zhangwei"],
    }  # fmt: skip
    assert body_for("wecom", message("13800000001"), None)[0]["text"] == {
        "content": "NVR down", "mentioned_mobile_list": ["13800000001"],
    }  # fmt: skip
    assert body_for("wecom", message(""), None)[0] == {
        "msgtype": "text", "text": {"content": "NVR down"},
    }  # fmt: skip


def test_dingtalk_names_the_mention_in_the_text_and_in_at() -> None:
    body, params = body_for("dingtalk", message("13800000001"), "SEC", now=1_700_000_000)
    assert body["text"] == {"content": "@13800000001 NVR down"}
    assert body["at"] == {"atMobiles": ["13800000001"]}
    assert set(params) == {"timestamp", "sign"}
    assert body_for("dingtalk", message("user42"), None)[0]["at"] == {"atUserIds": ["user42"]}


def test_feishu_mentions_an_open_id_and_never_a_mobile() -> None:
    body, _ = body_for("feishu", message("ou_abc"), None)
    assert body["content"] == {"text": '<at user_id="ou_abc"></at> NVR down'}
    assert body_for("feishu", message("13800000001"), None)[0]["content"] == {"text": "NVR down"}


def test_the_json_body_names_the_recipient() -> None:
    assert body_for("json", message("+8613800000001"), None)[0]["to"] == "+8613800000001"
