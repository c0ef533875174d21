"""The `probe` command: look at one device now (ICMP, SNMP) and print what was found."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING

import click

from monitord.checks.once import ProbeReport, probe
from monitord.checks.snmp import oids as O
from monitord.cli.context import EXIT_USAGE, Context, fail
from monitord.present import i18n

if TYPE_CHECKING:
    from monitord.checks.onvif.once import OnvifLook

EXIT_UNREACHABLE = 1


_SYSTEM = {
    O.SYS_NAME: "sys_name",
    O.SYS_DESCR: "sys_descr",
    O.SYS_OBJECT_ID: "sys_object_id",
    O.SYS_UPTIME: "uptime",
}


@click.command("probe")
@click.argument("device_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def probe_command(obj: Context, device_id: str, as_json: bool) -> None:
    """Run every probe of one device once; exit 1 if it answers neither ICMP, SNMP nor
    ONVIF."""
    config, lang = obj.config(), obj.lang
    device = next((d for d in config.devices if d.id == device_id), None)
    if device is None:
        fail(f"{device_id}: {i18n.t('no_device', lang)}", EXIT_USAGE)
    report = asyncio.run(probe(config, device))
    click.echo(as_json_text(report) if as_json else as_text(report, lang))
    sys.exit(0 if report.reachable else EXIT_UNREACHABLE)


COMMANDS = (probe_command,)


def as_json_text(r: ProbeReport) -> str:
    icmp = r.icmp and {"state": r.icmp.state.value, "reason": r.icmp.reason, **r.icmp.observation}
    findings = [
        {"check": f.check, "status": f.status.value, "summary": f.summary, "values": dict(f.values)}
        for f in r.findings
    ]
    system = {_SYSTEM[k]: v for k, v in r.system.items()}
    snmp = {"system": system, "findings": findings} if r.device.snmp else None
    tcp = [{"check": f.check, "status": f.status.value, "summary": f.summary} for f in r.tcp]
    out = {"device": r.device.id, "reachable": r.reachable, "icmp": icmp, "snmp": snmp}
    out["tcp"] = tcp if r.device.tcp else None
    out["onvif"] = _onvif_json(r.onvif) if r.device.onvif else None
    return json.dumps({**out, "icmp_error": r.icmp_error}, ensure_ascii=False, indent=2)


def _onvif_json(look: OnvifLook | None) -> dict[str, object] | None:
    if look is None:
        return None
    res = look.result
    ident = res.identity if res else None
    stream = res.stream if res else None
    return {
        "answered": look.answered,
        "identity": ident and {"vendor": ident.manufacturer, "model": ident.model,
                               "serial": ident.serial, "firmware": ident.firmware},
        "clock_drift_s": round(res.clock.drift, 1) if res and res.clock else None,
        "stream_uri": look.stream_uri,
        "rtsp": stream and {"ok": stream.ok, "reason": stream.reason, "detail": stream.detail,
                            "status": stream.status_code, "media": list(stream.media)},
        "findings": [{"check": f.check, "status": f.status.value, "summary": f.summary}
                     for f in look.findings],
    }  # fmt: skip


def _onvif_text(look: OnvifLook | None, lang: str) -> list[str]:
    if look is None:
        return [f"  ONVIF: {i18n.t('not_configured', lang)}"]
    lines = []
    ident = look.result.identity if look.result else None
    if ident is not None:
        for key, value in (("vendor", ident.manufacturer), ("model", ident.model),
                           ("serial", ident.serial), ("firmware", ident.firmware)):  # fmt: skip
            lines.append(f"  ONVIF {i18n.field(key, lang)}: {value}")
    if look.stream_uri:
        lines.append(f"  RTSP: {look.stream_uri}")
    lines += [f"  [{i18n.t(f.status.value, lang)}] {f.check}: {f.summary}" for f in look.findings]
    return lines


def as_text(r: ProbeReport, lang: str) -> str:
    d = r.device
    lines = [f"{d.id} ({i18n.t(d.kind.value, lang)}, {d.address})"]
    if r.icmp is not None:
        lines.append(f"  ICMP: {i18n.t(r.icmp.state.value, lang)} — {r.icmp.reason}")
    else:
        lines.append(f"  ICMP: {i18n.t('unavailable', lang)} — {r.icmp_error}")
    if d.snmp is None:
        lines.append(f"  SNMP: {i18n.t('not_configured', lang)}")
    else:
        for key, value in r.system.items():
            shown = (
                f"{value / 100:.0f} s" if key == O.SYS_UPTIME and isinstance(value, int) else value
            )
            lines.append(f"  {i18n.t(_SYSTEM[key], lang)}: {str(shown)[:120]}")
        for f in r.findings:
            lines.append(f"  [{i18n.t(f.status.value, lang)}] {f.check}: {f.summary}")
    for f in r.tcp:
        lines.append(f"  [{i18n.t(f.status.value, lang)}] {f.check}: {f.summary}")
    if d.onvif is not None:
        lines += _onvif_text(r.onvif, lang)
    verdict = "reachable" if r.reachable else "not_reachable"
    lines.append(i18n.t(verdict, lang))
    return "\n".join(lines)
