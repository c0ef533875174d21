"""`monitord outbox` shows the messages waiting, sent and failed; `monitord notify test`
sends one message through a channel now, bypassing the outbox, and says how it went."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from zoneinfo import ZoneInfo

import click

from monitord.cli.context import EXIT_USAGE, Context, fail
from monitord.notify.channels import DeliveryError, build
from monitord.present import i18n
from monitord.store.outbox import STATES
from monitord.store.records import OutboxMessage


@click.command("outbox")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--state", "states", multiple=True, type=click.Choice(STATES))
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def outbox(obj: Context, as_json: bool, states: tuple[str, ...], limit: int) -> None:
    """Notification messages, newest first: pending, sending, sent and failed."""
    store = obj.store(obj.config(devices=False))
    try:
        messages = store.outbox.messages(states or None, limit)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([_as_dict(m) for m in messages], ensure_ascii=False, indent=2))
    else:
        click.echo(as_text(messages, obj.lang))


@click.group("notify")
def notify() -> None:
    """Notification channels."""


@notify.command("test")
@click.argument("channel")
@click.option("--to", "recipient", default="", help="Address (email); none for a webhook.")
@click.pass_obj
def notify_test(obj: Context, channel: str, recipient: str) -> None:
    """Send a test message through CHANNEL now; exit 1 (saying why) if it fails."""
    config = obj.config()
    settings = next((c for c in config.notify.channels if c.name == channel), None)
    if settings is None:
        fail(f"no notify channel named {channel!r}", EXIT_USAGE)
    now = obj.now()
    key = f"test/{now.timestamp():.6f}/{channel}/{recipient}"
    en, zh = i18n.MESSAGE_TAGS["test_message"]
    subject = f"{en} / {zh}"
    message = OutboxMessage(
        0, key, None, channel, recipient, subject, subject, now, now, 1, "sending",
        None, None, None,
    )  # fmt: skip
    try:
        asyncio.run(build(settings).send(message))
    except DeliveryError as exc:
        kind = "permanent" if exc.permanent else "transient"
        fail(f"{kind} failure: {exc}")
    click.echo(f"{channel}: sent")


COMMANDS = (outbox, notify)


def _as_dict(m: OutboxMessage) -> dict[str, object]:
    def iso(at: dt.datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {
        "id": m.id, "key": m.idempotency_key, "ticket": m.ticket_id, "channel": m.channel,
        "recipient": m.recipient, "subject": m.subject, "state": m.state,
        "attempts": m.attempts, "created_at": iso(m.created_at),
        "not_before": iso(m.not_before), "sent_at": iso(m.sent_at), "last_error": m.last_error,
        "group": m.group_key,  # the key of the (grouped) message it went out in
    }  # fmt: skip


def as_text(messages: list[OutboxMessage], lang: str) -> str:
    if not messages:
        return i18n.t("outbox_empty", lang)
    tz = ZoneInfo("Asia/Shanghai") if lang == "zh" else dt.UTC
    head = ("ID", "STATE", "TRIES", "CREATED", "CHANNEL", "TO", "SUBJECT / LAST ERROR")
    rows = [head]
    for m in messages:
        when = m.created_at.astimezone(tz).strftime("%m-%d %H:%M:%S")
        note = m.subject if m.state == "sent" or not m.last_error else m.last_error
        rows.append(
            (str(m.id), m.state, str(m.attempts), when, m.channel, m.recipient or "-", note[:60])
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows
    )
