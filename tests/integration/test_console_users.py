"""`monitord users add|passwd|disable|list` on a real store, and what each does to sign-in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitord.cli import main
from monitord.config.load import load
from monitord.console.accounts import AccountError, Accounts
from monitord.store import Store
from tests.support.ticketlab import config_data

NOW = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)


def configured(tmp_path: Path) -> tuple[Path, Callable[..., str]]:
    """A configuration file, and the CLI on it: cli(*args, stdin=, code=) -> its output."""
    path = tmp_path / "monitord.yaml"
    data = config_data(f"sqlite:///{tmp_path / 'm.db'}", "city")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    runner = CliRunner()

    def cli(*args: str, stdin: str = "", code: int = 0) -> str:
        result = runner.invoke(main, ["-c", str(path), *args], input=stdin)
        assert result.exit_code == code, result.output
        return result.output

    return path, cli


def test_add_passwd_disable_list(tmp_path: Path) -> None:
    path, cli = configured(tmp_path)
    cli("users", "add", "li", "--role", "engineer", "--password-stdin", stdin="first password\n")
    cli("users", "add", "wang", "--role", "customer", "--contract", "seed-000", "--site", "s1",
        "--password-stdin", stdin="customer password\n")  # fmt: skip
    assert "contract" in cli("users", "add", "x", "--role", "customer", "--password-stdin",
                             stdin="long enough pw\n", code=1)  # fmt: skip
    assert "10" in cli("users", "add", "y", "--role", "engineer", "--password-stdin",
                       stdin="short\n", code=1)  # fmt: skip
    cli("users", "add", "z", "--role", "customer", "--contract", "nope", "--password-stdin",
        stdin="long enough pw\n", code=2)  # fmt: skip
    listed = cli("--lang", "zh", "users", "list")
    assert "角色" in listed and "li" in listed and "seed-000" in listed and "s1" in listed
    config = load(path)
    store = Store.open(config.database_url)
    accounts = Accounts(store, config.console)
    token, _ = accounts.sign_in("li", "first password", NOW)
    assert accounts.session(token, NOW) is not None
    cli("users", "passwd", "li", "--password-stdin", stdin="second password\n")
    assert accounts.session(token, NOW) is None  # a new password ends every session
    with pytest.raises(AccountError):
        accounts.sign_in("li", "first password", NOW)
    token, _ = accounts.sign_in("li", "second password", NOW)
    cli("users", "disable", "li")
    assert accounts.session(token, NOW) is None
    with pytest.raises(AccountError, match="wrong name or password"):
        accounts.sign_in("li", "second password", NOW)
    assert "disabled" in cli("users", "list")
    stored = store.accounts.user("li")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert "second password" not in stored.password_hash
    store.close()


def test_link_unlink_list_and_check_an_oauth_block(tmp_path: Path) -> None:
    from monitord.cli.users import PROVIDERS
    from monitord.config.oauth import PROVIDERS as CONFIGURED

    assert PROVIDERS == CONFIGURED  # the CLI keeps its own copy to load lazily
    path, cli = configured(tmp_path)
    cli("users", "add", "li", "--role", "engineer", "--password-stdin", stdin="first password\n")
    cli("users", "add", "wu", "--role", "dispatcher", "--password-stdin", stdin="first password\n")
    assert "li <- wecom:zhangsan" in cli("users", "link", "li", "--provider", "wecom", "--id",
                                         "zhangsan")  # fmt: skip
    cli("users", "link", "li", "--provider", "feishu", "--id", "ou_7d8a")
    taken = cli("users", "link", "wu", "--provider", "wecom", "--id", "zhangsan", code=1)
    assert "linked to 'li'" in taken
    assert "no user" in cli("users", "link", "nobody", "--provider", "wecom", "--id", "x", code=1)
    cli("users", "link", "li", "--provider", "qq", "--id", "x", code=2)  # not a provider
    listed = cli("users", "list")
    assert "feishu:ou_7d8a,wecom:zhangsan" in listed and "LINKED" in listed
    assert "关联账号" in cli("--lang", "zh", "users", "list")
    assert "not linked to 'wu'" in cli("users", "unlink", "wu", "--provider", "wecom", "--id",
                                       "zhangsan", code=1)  # fmt: skip
    cli("users", "unlink", "li", "--provider", "wecom", "--id", "zhangsan")
    store = Store.open(load(path).database_url)
    assert store.accounts.identity_user("wecom", "zhangsan") is None
    found = store.accounts.identity_user("feishu", "ou_7d8a")
    assert found is not None and found.name == "li"
    store.close()
    # A broken block is named by file and line, and the secret's value is never asked for.
    text = path.read_text(encoding="utf-8")
    line = text.count("\n") + 3  # the `dingtalk:` line
    path.write_text(text + "console:\n  oauth:\n    dingtalk:\n      enabled: true\n"
                    "      client_id: dingabc\n", encoding="utf-8")  # fmt: skip
    broken = cli("check", code=2)
    assert f"{path}:{line}" in broken and "secret" in broken, broken
