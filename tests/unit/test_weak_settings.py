"""`monitord check` warns, in the reader's language and without quoting a secret, about
settings that load but are unsafe (issue 13, item 14)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from monitord.cli import main

INLINE = "Bearer sk-live-0123456789"


def check(tmp_path: Path, data: dict[str, Any], *args: str) -> tuple[int, str, str]:
    path = tmp_path / "monitord.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(main, ["-c", str(path), *args, "check"])
    return result.exit_code, result.stdout, result.stderr


def weak() -> dict[str, Any]:
    return {
        "api": {"enabled": True, "listen": "0.0.0.0",
                "tokens": [{"name": "ops", "role": "manager", "token": {"env": "WEAK_T"}}]},
        "metrics": {"listen": "::"},
        "notify": {"channels": [{"type": "sms", "name": "gw", "url": "https://sms.example/",
                                 "headers": {"Authorization": INLINE, "X-Trace": "on"}}]},
    }  # fmt: skip


def test_weak_settings_are_warned_about_and_still_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEAK_T", "short-token")
    code, out, err = check(tmp_path, weak(), "--lang", "en")
    assert code == 0 and "configuration OK" in out
    assert "api token 'ops' is 11 characters long; use at least 32" in err
    assert "api listens on 0.0.0.0, beyond loopback, in plain HTTP" in err
    assert "metrics listens on ::, beyond loopback" in err
    assert "header 'Authorization' holds a secret in plain text" in err
    assert "X-Trace" not in err
    assert "short-token" not in out + err and INLINE not in out + err
    _, _, zh = check(tmp_path, weak(), "--lang", "zh")
    assert "API 令牌 'ops' 只有 11 个字符" in zh and "警告" in zh


def test_strong_settings_and_acknowledged_tls_say_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEAK_T", "x" * 43)
    data = weak()
    data["api"] |= {"behind_tls": True}
    data["metrics"] |= {"behind_tls": True}
    data["notify"]["channels"][0]["headers"] = {"Authorization": {"env": "WEAK_T"}}
    code, out, err = check(tmp_path, data)
    assert code == 0 and "configuration OK" in out
    assert err == ""
