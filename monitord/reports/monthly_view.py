"""The monthly report laid out as a document, in the report's language.

It leads with what a customer reads: tickets, SLA compliance, availability per site, the
worst devices. When the full per-device list is delivered as an appendix file (`appendix`
names it), long lists are cut to what fits a few pages and the note names the file.
"""

from __future__ import annotations

import datetime as dt
import math

from monitord.present.devices import local
from monitord.reports.availability import Uptime
from monitord.reports.document import Block, Chart, Document, Paragraph, Section, Table
from monitord.reports.figures import CLASSES, UNCLASSIFIED
from monitord.reports.monthly import DeviceLine, MonthlyReport, SiteLine
from monitord.reports.sources import TaskCounts
from monitord.reports.svg import CLASS_COLORS, Bar, availability_color
from monitord.reports.words import duration, milestone, percent, w

# Beyond these, a list goes to the appendix (when there is one) and the PDF shows the worst.
INLINE_DEVICES = 40
WORST_DEVICES = 20
WARRANTY_ROWS = 30
# A chart taller than a page cannot be kept whole on one: at most this many bars.
CHART_BARS = 20


def document(r: MonthlyReport, generated: dt.datetime, appendix: str | None = None) -> Document:
    lang = r.lang
    meta = [
        (w("contract", lang), f"{r.contract.name} ({r.contract.id})"),
        (w("period", lang), r.period.label),
        (w("time_zone", lang), r.period.tz),
        (w("as_of", lang), local(r.period.as_of, r.period.tz)),
        (w("generated", lang), local(generated, r.period.tz)),
    ]
    sections = [
        _summary(r),
        _by_class(r),
        _sla(r),
        _availability(r),
        _top_failing(r),
        _devices(r, appendix),
        _prevention(r),
        _warranty(r, appendix),
    ]
    return Document(
        f"{w('monthly_title', lang)} · {r.period.label}", lang, tuple(meta), tuple(sections)
    )


def _summary(r: MonthlyReport) -> Section:
    lang = r.lang
    met = sum(c.met for c in r.tickets.compliance)
    decided = met + sum(c.breached for c in r.tickets.compliance)
    rows = [
        (w("tickets_total", lang), str(r.tickets.total)),
        (w("open_at_end", lang), str(r.tickets.open_at_end)),
        (w("sla", lang), percent(met / decided if decided else None, lang, 1)),
        (w("mtta", lang), duration(r.tickets.to_acknowledge.mean, lang)),
        (w("mttr", lang), duration(r.tickets.to_repair.mean, lang)),
        (f"{w('availability', lang)} ({w('overall', lang)})", _share(r.overall, lang)),
    ]
    blocks: list[Block] = [Table(("", ""), tuple(rows), frozenset({1}))]
    if not r.period.complete:
        blocks.insert(0, Paragraph(w("incomplete", lang), note=True))
    return Section(w("summary", lang), tuple(blocks))


def _by_class(r: MonthlyReport) -> Section:
    lang = r.lang
    keys = (*CLASSES, UNCLASSIFIED)
    counts = r.tickets.by_class
    chart = Chart(
        w("tickets_by_class", lang),
        tuple(Bar(w(f"class_{k}", lang), counts[k], str(counts[k]), CLASS_COLORS[k]) for k in keys),
        float(max([*counts.values(), 1])),
    )
    rows = tuple((w(f"class_{k}", lang), str(counts[k])) for k in keys)
    table = Table((w("class", lang), w("count", lang)), rows, frozenset({1}))
    return Section(w("tickets_by_class", lang), (chart, table))


def _sla(r: MonthlyReport) -> Section:
    lang = r.lang
    shown = [c for c in r.tickets.compliance if c.met + c.breached + c.pending]
    bars = tuple(
        Bar(
            milestone(c.milestone, lang),
            (c.share_met or 0.0) * 100,
            percent(c.share_met, lang, 1),
            availability_color(c.share_met) if c.share_met is not None else "#9e9e9e",
        )
        for c in shown
    )
    rows = tuple(
        (
            milestone(c.milestone, lang),
            str(c.met),
            str(c.breached),
            str(c.pending),
            percent(c.share_met, lang, 1),
        )
        for c in shown
    )
    header = tuple(w(k, lang) for k in ("milestone", "met", "breached", "pending", "share_met"))
    times = Table(
        ("", w("mean", lang), w("median", lang), w("count", lang)),
        tuple(
            (
                w(key, lang),
                duration(d.mean, lang),
                duration(d.median, lang),
                f"{d.count} {w('of_tickets', lang)}",
            )
            for key, d in (("mtta", r.tickets.to_acknowledge), ("mttr", r.tickets.to_repair))
        ),
        frozenset({1, 2, 3}),
    )
    blocks: list[Block] = []
    if bars:
        blocks += [
            Chart(w("sla", lang) + " (%)", bars, 100.0),
            Table(header, rows, frozenset({1, 2, 3, 4})),
        ]
    else:
        blocks.append(Paragraph(w("none", lang)))
    return Section(w("sla", lang), (*blocks, times))


def _share(u: Uptime, lang: str) -> str:
    return percent(u.availability, lang, 3)


def _scale_min(values: list[float | None]) -> float:
    """Bars start at a round share below the worst, so 99.9 % and 99.0 % look different."""
    known = [v for v in values if v is not None]
    if not known:
        return 0.0
    return max(0.0, math.floor(min(known) * 10 - 0.001) / 10) * 100


def _site_rank(s: SiteLine) -> tuple[float, str]:
    """Worst first; a site without data last."""
    share = s.uptime.availability
    return (2.0 if share is None else share, s.site.id)


def _availability(r: MonthlyReport) -> Section:
    lang = r.lang
    charted = list(r.sites)
    if len(charted) > CHART_BARS:
        charted = sorted(charted, key=_site_rank)[:CHART_BARS]
    shares = [s.uptime.availability for s in charted]
    low = _scale_min([*shares, r.overall.availability])
    bars = tuple(
        Bar(s.site.name, (s.uptime.availability or 0) * 100, _share(s.uptime, lang),
            availability_color(s.uptime.availability))
        for s in charted
    ) + (Bar(w("overall", lang), (r.overall.availability or 0) * 100, _share(r.overall, lang),
              availability_color(r.overall.availability)),)  # fmt: skip
    rows = tuple(
        (
            f"{s.site.name} ({s.site.id})",
            str(len(s.devices)),
            duration(s.uptime.observed, lang),
            duration(s.uptime.down, lang),
            str(s.uptime.failures),
            _share(s.uptime, lang),
        )
        for s in r.sites
    )
    header = tuple(
        w(k, lang) for k in ("site", "device", "observed", "downtime", "failures", "availability")
    )
    title = f"{w('availability_sites', lang)} (%, {low:.0f}–100)"
    if len(charted) < len(r.sites):
        shown = w("lowest_sites", lang).format(shown=len(charted), total=len(r.sites))
        title = f"{w('availability_sites', lang)}, {shown} (%, {low:.0f}–100)"
    return Section(
        w("availability_sites", lang),
        (
            Chart(title, bars, 100.0, low),
            Table(header, rows, frozenset({1, 2, 3, 4, 5}), (30, 10, 15, 15, 12, 18)),
            Paragraph(w("availability_note", lang), note=True),
        ),
    )


def _device_row(line: DeviceLine, lang: str) -> tuple[str, ...]:
    d, u = line.device, line.uptime
    return (
        f"{d.name} ({d.id})",
        w(d.kind, lang),
        d.site_id,
        duration(u.down, lang),
        str(u.failures),
        str(line.tickets),
        _share(u, lang),
    )


_DEVICE_HEADER = ("device", "kind", "site", "downtime", "failures", "tickets", "availability")
_DEVICE_WIDTHS = (30, 13, 10, 13, 10, 10, 14)


def _device_table(lines: list[DeviceLine], lang: str) -> Table:
    header = tuple(w(k, lang) for k in _DEVICE_HEADER)
    rows = tuple(_device_row(line, lang) for line in lines)
    return Table(header, rows, frozenset({3, 4, 5, 6}), _DEVICE_WIDTHS)


def _devices(r: MonthlyReport, appendix: str | None) -> Section:
    lang = r.lang
    every = [line for s in r.sites for line in s.devices]
    if appendix is None or len(every) <= INLINE_DEVICES:
        blocks: list[Block] = [_device_table(every, lang)]
        if appendix is not None:
            blocks.append(Paragraph(w("also_in_appendix", lang).format(file=appendix), note=True))
        return Section(w("availability_devices", lang), tuple(blocks))
    known = [ln for ln in every if ln.uptime.availability is not None]
    worst = sorted(known, key=lambda ln: (ln.uptime.availability, -ln.uptime.down, ln.device.id))[
        :WORST_DEVICES
    ]
    note = w("in_appendix", lang).format(shown=len(worst), total=len(every), file=appendix)
    return Section(
        w("worst_devices", lang), (_device_table(worst, lang), Paragraph(note, note=True))
    )


def _top_failing(r: MonthlyReport) -> Section:
    lang = r.lang
    if not r.top_failing:
        return Section(w("top_failing", lang), (Paragraph(w("none", lang)),))
    hours = [line.uptime.down.total_seconds() / 3600 for line in r.top_failing]
    chart = Chart(
        f"{w('top_failing', lang)}: {w('downtime', lang)} ({w('hours', lang)})",
        tuple(
            Bar(line.device.name, h, duration(line.uptime.down, lang), "#c62828")
            for line, h in zip(r.top_failing, hours, strict=True)
        ),
        max([*hours, 1.0]),
    )
    return Section(w("top_failing", lang), (chart, _device_table(list(r.top_failing), lang)))


def _task_row(key: str, counts: TaskCounts | None, lang: str) -> tuple[str, ...]:
    if counts is None:
        return (w(key, lang), *([w("not_recorded", lang)] * 4))
    score = "-" if counts.mean_score is None else f"{counts.mean_score:.1f} ({counts.scored})"
    return (w(key, lang), str(counts.due), str(counts.done), str(counts.overdue), score)


def _prevention(r: MonthlyReport) -> Section:
    lang = r.lang
    header = tuple(w(k, lang) for k in ("", "due", "done", "overdue", "score"))
    rows = (
        _task_row("inspections", r.inspections, lang),
        _task_row("follow_ups", r.follow_ups, lang),
    )
    blocks: list[Block] = []
    known = [(k, c) for k, c in (("inspections", r.inspections), ("follow_ups", r.follow_ups)) if c]
    if known:
        bars = []
        for key, c in known:
            bars += [
                Bar(f"{w(key, lang)} · {w('done', lang)}", c.done, str(c.done), "#2e7d32"),
                Bar(f"{w(key, lang)} · {w('overdue', lang)}", c.overdue, str(c.overdue), "#c62828"),
            ]
        top = max([*(b.value for b in bars), 1])
        blocks.append(Chart(w("prevention", lang), tuple(bars), float(top)))
    blocks.append(Table(header, rows, frozenset({1, 2, 3, 4})))
    return Section(w("prevention", lang), tuple(blocks))


def _warranty(r: MonthlyReport, appendix: str | None) -> Section:
    lang = r.lang
    note = Paragraph(w("warranty_within", lang).format(days=r.warranty_days), note=True)
    if not r.warranty:
        return Section(w("warranty", lang), (note, Paragraph(w("none", lang))))
    shown = r.warranty if appendix is None else r.warranty[:WARRANTY_ROWS]
    header = tuple(w(k, lang) for k in ("device", "kind", "site", "warranty_end", "days_left"))
    rows = tuple(
        (
            f"{x.device.name} ({x.device.id})",
            w(x.device.kind, lang),
            x.device.site_id,
            x.ends.isoformat(),
            str(x.days_left),
        )
        for x in shown
    )
    table = Table(header, rows, frozenset({4}), (34, 16, 14, 20, 16))
    if len(shown) == len(r.warranty):
        return Section(w("warranty", lang), (note, table))
    more = w("more_in_appendix", lang).format(more=len(r.warranty) - len(shown), file=appendix)
    return Section(w("warranty", lang), (note, table, Paragraph(more, note=True)))
