"""`monitord users add|passwd|disable|list`: the web console's local accounts."""

from __future__ import annotations

import sys

import click

from monitord.cli.context import Context, fail
from monitord.present import i18n

ROLES = ("engineer", "dispatcher", "manager", "customer")


def _password(from_stdin: bool) -> str:
    if from_stdin:  # scripts and tests: the first line of standard input
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group("users")
def users_group() -> None:
    """Web console accounts: add, change a password, disable, list."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--display-name", default="", help="The name pages show (default: NAME).")
@click.option("--contract", default=None, help="A customer's contract (required for customers).")
@click.option("--site", "sites", multiple=True, help="Limit a customer to these sites.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def add(
    obj: Context,
    name: str,
    role: str,
    display_name: str,
    contract: str | None,
    sites: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Add a user who signs in to the web console."""
    from monitord.console.accounts import AccountError, Accounts, Role

    config = obj.config()
    if contract is not None and contract not in {c.id for c in config.contracts}:
        fail(f"unknown contract {contract!r}", 2)
    known_sites = {s.id: s.contract for s in config.sites}
    for site in sites:
        if known_sites.get(site, "") != contract:
            fail(f"site {site!r} is not a site of contract {contract!r}", 2)
    store = obj.store(config)
    try:
        Accounts(store, config.console).add(
            name, Role(role), _password(password_stdin), obj.now(), display_name, contract, sites
        )
    except AccountError as exc:
        fail(str(exc))
    finally:
        store.close()
    click.echo(f"{i18n.word(i18n.CONSOLE, 'user_added', obj.lang)}: {name} ({role})")


@users_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def passwd(obj: Context, name: str, password_stdin: bool) -> None:
    """Set a user's password; their sessions end and a lockout is lifted."""
    from monitord.console.accounts import AccountError, Accounts

    config = obj.config()
    store = obj.store(config)
    try:
        Accounts(store, config.console).passwd(name, _password(password_stdin))
    except AccountError as exc:
        fail(str(exc))
    finally:
        store.close()
    click.echo(f"{i18n.word(i18n.CONSOLE, 'password_set', obj.lang)}: {name}")


@users_group.command("disable")
@click.argument("name")
@click.pass_obj
def disable(obj: Context, name: str) -> None:
    """Disable a user: they cannot sign in, and their sessions end now."""
    from monitord.console.accounts import AccountError, Accounts

    config = obj.config()
    store = obj.store(config)
    try:
        Accounts(store, config.console).disable(name)
    except AccountError as exc:
        fail(str(exc))
    finally:
        store.close()
    click.echo(f"{i18n.word(i18n.CONSOLE, 'user_disabled', obj.lang)}: {name}")


@users_group.command("list")
@click.pass_obj
def list_users(obj: Context) -> None:
    """Every console user with role, contract, sites and whether disabled."""
    from monitord.console.accounts import Accounts
    from monitord.present.devices import table

    config = obj.config()
    store = obj.store(config)
    rows = [
        [u.name, u.display_name, u.role.value, u.contract or "-", ",".join(u.sites) or "-",
         "disabled" if off else "active"]
        for u, off in Accounts(store, config.console).list()
    ]  # fmt: skip
    store.close()
    heads = ["name", "display_name", "role", "contract", "sites", "state"]
    click.echo(table([i18n.word(i18n.CONSOLE, h, obj.lang).upper() for h in heads], rows))


COMMANDS = (users_group,)
