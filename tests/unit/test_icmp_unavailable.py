"""What `monitord run` says when it may open no ICMP socket (the text an operator reads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitord.checks.icmp import client as icmp


def test_the_range_is_shown_when_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Path, "read_text", lambda _self, *a, **k: "1\t0\n")
    said = str(icmp._unavailable(icmp.IcmpMode.DGRAM))
    assert "ping_group_range (now 1 0)" in said


def test_a_hidden_range_points_to_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    def hidden(_self: Path, *_a: object, **_k: object) -> str:
        raise PermissionError("ProcSubset=pid")

    monkeypatch.setattr(Path, "read_text", hidden)
    said = str(icmp._unavailable(None))
    assert "CAP_NET_RAW" in said
    assert "ping_group_range (unreadable here; see systemd/60-monitord-ping.conf)" in said
