"""`monitord users add|passwd|disable|link|unlink|list`: the web console's local accounts."""

from __future__ import annotations

import sys

import click

from monitord.cli.context import Context, fail
from monitord.present import i18n

ROLES = ("engineer", "dispatcher", "manager", "customer")
PROVIDERS = ("wecom", "dingtalk", "feishu")  # config/oauth.py; not imported: the CLI loads lazily


def _password(from_stdin: bool) -> str:
    if from_stdin:  # scripts and tests: the first line of standard input
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group("users")
def users_group() -> None:
    """Web console accounts: add, change a password, disable, link a WeCom / DingTalk / Feishu
    user, list."""


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


def _identity(obj: Context, name: str, provider: str, subject: str, linking: bool) -> None:
    from monitord.console.accounts import AccountError, Accounts

    config = obj.config()
    store = obj.store(config)
    try:
        accounts = Accounts(store, config.console)
        if linking:
            accounts.link(name, provider, subject, obj.now())
        else:
            accounts.unlink(name, provider, subject)
    except AccountError as exc:
        fail(str(exc))
    finally:
        store.close()
    word = i18n.word(i18n.CONSOLE, "identity_linked" if linking else "identity_unlinked", obj.lang)
    click.echo(f"{word}: {name} <- {provider}:{subject}")


@users_group.command("link")
@click.argument("name")
@click.option("--provider", type=click.Choice(PROVIDERS), required=True)
@click.option("--id", "subject", required=True,
              help="The provider's user id: WeCom userid, DingTalk unionId, Feishu open_id.")  # fmt: skip
@click.pass_obj
def link(obj: Context, name: str, provider: str, subject: str) -> None:
    """Let a WeCom / DingTalk / Feishu user sign in as NAME from that app's browser."""
    _identity(obj, name, provider, subject, linking=True)


@users_group.command("unlink")
@click.argument("name")
@click.option("--provider", type=click.Choice(PROVIDERS), required=True)
@click.option("--id", "subject", required=True, help="The provider's user id, as linked.")
@click.pass_obj
def unlink(obj: Context, name: str, provider: str, subject: str) -> None:
    """Stop a linked provider user signing in as NAME (sessions already open stay)."""
    _identity(obj, name, provider, subject, linking=False)


@users_group.command("list")
@click.pass_obj
def list_users(obj: Context) -> None:
    """Every console user with role, contract, sites and whether disabled."""
    from monitord.console.accounts import Accounts
    from monitord.present.devices import table

    config = obj.config()
    store = obj.store(config)
    accounts = Accounts(store, config.console)
    linked = accounts.identities()
    rows = [
        [u.name, u.display_name, u.role.value, u.contract or "-", ",".join(u.sites) or "-",
         "disabled" if off else "active", linked.get(u.name, "-")]
        for u, off in accounts.list()
    ]  # fmt: skip
    store.close()
    heads = ["name", "display_name", "role", "contract", "sites", "state", "identities"]
    click.echo(table([i18n.word(i18n.CONSOLE, h, obj.lang).upper() for h in heads], rows))


COMMANDS = (users_group,)
