"""The command table: which module holds each top-level command, and its one-line help.

`monitord --help` lists commands from this table without importing their modules; a command's
module is imported when it runs. tests/unit/test_cli_lazy.py checks the table against the
modules' own `COMMANDS`, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib

import click

# name -> (module under monitord.cli, one-line help as the command's docstring starts)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("daemon", "Run the daemon in the foreground (systemd runs this)."),
    "check": (
        "daemon",
        "Validate the configuration: exit 0, or 2 listing every error as file:line: path: what.",
    ),
    "db": ("daemon", "The database (SQLite by default, PostgreSQL by URL)."),
    "devices": ("devices", "List devices with their state and since when."),
    "device": ("devices", "One device: its equipment archive, state and operation record."),
    "tickets": ("tickets", "List tickets, newest first."),
    "ticket": ("tickets", "Show one ticket or act on it (each action is an event in its log)."),
    "probe": (
        "probe",
        "Run every probe of one device once; exit 1 if it answers neither ICMP, SNMP nor ONVIF.",
    ),
    "outbox": ("notify", "Notification messages, newest first: pending, sending, sent and failed."),
    "notify": ("notify", "Notification channels."),
    "oncall": ("oncall", "Who is on call for each rotation, since when, and who takes over next."),
    "report": (
        "report",
        "Customer-facing reports: monthly (R2), one ticket's record (R1), logs (R3).",
    ),
    "inspections": (
        "prevention",
        "Preventive inspections (P1): list tasks, show one, record results.",
    ),
    "followups": (
        "prevention",
        "Customer follow-up visits (P4, 用户回访): what is owed, record a visit.",
    ),
    "warranty": (
        "prevention",
        "Devices whose warranty (project or manufacturer) ends within the horizon.",
    ),
    "maintenance": ("maintenance", "Maintenance windows: planned work that opens no tickets (P5)."),
    "users": (
        "users",
        "Web console accounts: add, change a password, disable, link a WeCom / DingTalk / Feishu user, list.",
    ),
    "pollers": (
        "pollers",
        "Site pollers at the centre: enrol one for a site, list them, revoke one.",
    ),
    "poller": (
        "pollers",
        "Run as a site poller: enrol with the centre once, then run (monitord-poller.service).",
    ),
    "discover": (
        "discover",
        "Find cameras, NVRs and switches in a site's configured ranges and propose inventory changes; never edits the configuration.",
    ),
    "demo": ("demo", "Run the daemon on a built-in demo site: watch a camera fail and recover."),
}


def load(name: str) -> click.Command:
    module = importlib.import_module(f"monitord.cli.{COMMANDS[name][0]}")
    commands: tuple[click.Command, ...] = module.COMMANDS
    return next(c for c in commands if c.name == name)


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, listed from `COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(load(cmd_name))
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
