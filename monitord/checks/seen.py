"""What one look (`monitord probe`, checks/once.py) saw, as plain data: a site poller sends
it up as a command's result, and the console shows it in the reader's language, whichever
side ran the look."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from monitord.checks.once import ProbeReport


class SeenCheck(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    check: str = Field(max_length=64)
    status: str = Field(max_length=16)  # a health Status value: "ok", "critical"...
    summary: str = Field(max_length=2000)


class ProbeSeen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    device: str = Field(max_length=64)
    reachable: bool
    icmp_state: str | None = Field(default=None, max_length=16)  # None: ICMP could not run
    icmp_reason: str = Field(default="", max_length=2000)
    icmp_error: str | None = Field(default=None, max_length=2000)
    loss_pct: float | None = None
    rtt_avg_ms: float | None = None
    checks: tuple[SeenCheck, ...] = Field(default=(), max_length=256)


def seen_of(r: ProbeReport) -> ProbeSeen:
    icmp = r.icmp
    onvif = list(r.onvif.findings) if r.onvif is not None else []
    return ProbeSeen(
        device=r.device.id,
        reachable=r.reachable,
        icmp_state=icmp.state.value if icmp is not None else None,
        icmp_reason=icmp.reason if icmp is not None else "",
        icmp_error=r.icmp_error,
        loss_pct=icmp.loss_pct if icmp is not None else None,
        rtt_avg_ms=icmp.rtt_avg_ms if icmp is not None else None,
        checks=tuple(
            SeenCheck(check=f.check, status=f.status.value, summary=f.summary)
            for f in [*r.findings, *r.tcp, *onvif]
        ),
    )
