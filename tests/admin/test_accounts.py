from __future__ import annotations

import json

from smsgate.gateway.credentials import hash_token
from smsgate.store.records import AccountRecord, Balance
from smsgate.store.sql_store import SqlStore

from .admin_cli import Admin, token_in


def test_create_prints_the_id_and_a_token_that_authenticates(admin: Admin) -> None:
    result = admin.ok("accounts", "create", "alice")
    token = token_in(result)

    async def by_token(store: SqlStore) -> AccountRecord | None:
        return await store.account_by_token_hash(hash_token(token))

    record = admin.store(by_token)
    assert record is not None
    assert record.login == "alice"
    assert f"id {record.id}" in result.stdout
    assert (record.currency, record.rate_limit, record.max_binds, record.active) == (
        "UAH",
        9.0,
        4,
        True,
    )


def test_create_applies_currency_limits_and_opening_balance(admin: Admin) -> None:
    admin.ok(
        "accounts",
        "create",
        "bob",
        "--currency",
        "usd",
        "--rate-limit",
        "2.5",
        "--max-binds",
        "1",
        "--balance",
        "12.5",
    )
    account_id = admin.account_id("bob")

    async def work(store: SqlStore) -> tuple[AccountRecord | None, Balance]:
        return await store.account(account_id), await store.balance(account_id)

    record, balance = admin.store(work)
    assert record is not None
    assert (record.currency, record.rate_limit, record.max_binds) == ("USD", 2.5, 1)
    assert (balance.currency, balance.balance) == ("USD", 125_000)


def test_each_create_issues_a_different_token(admin: Admin) -> None:
    first = token_in(admin.ok("accounts", "create", "a1"))
    second = token_in(admin.ok("accounts", "create", "a2"))
    assert first != second


def test_duplicate_login_is_refused_and_the_first_account_is_kept(admin: Admin) -> None:
    token = token_in(admin.ok("accounts", "create", "alice"))
    message = admin.refused("accounts", "create", "alice")
    assert "alice" in message and "taken" in message

    async def work(store: SqlStore) -> AccountRecord | None:
        return await store.account_by_token_hash(hash_token(token))

    assert admin.store(work) is not None
    assert len(admin.store(lambda s: s.list_accounts())) == 1


def test_bad_login_currency_and_balance_are_refused_before_anything_is_stored(
    admin: Admin,
) -> None:
    assert "bad login" in admin.refused("accounts", "create", "two words")
    assert "bad currency" in admin.refused("accounts", "create", "c", "--currency", "hryvnia")
    assert "bad balance" in admin.refused("accounts", "create", "c", "--balance", "1,5")
    assert "not negative" in admin.refused("accounts", "create", "c", "--balance", "-1")
    assert admin.store(lambda s: s.list_accounts()) == []


def test_list_shows_every_account_as_a_table_and_as_json(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice", "--balance", "100")
    admin.ok("accounts", "create", "bob")
    table = admin.ok("accounts", "list").stdout
    assert "alice" in table and "bob" in table and "100.0000 UAH" in table

    rows = json.loads(admin.ok("accounts", "list", "--json").stdout)
    assert [r["login"] for r in rows] == ["alice", "bob"]
    assert rows[0]["balance"] == "100.0000"
    assert rows[0]["has_token"] is True
    assert rows[0]["senders"] == []


def test_list_of_no_accounts_is_an_empty_json_list(admin: Admin) -> None:
    assert json.loads(admin.ok("accounts", "list", "--json").stdout) == []


def test_show_reports_one_account_in_full(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice", "--balance", "3")
    admin.ok("senders", "add", "alice", "Shop")
    shown = json.loads(admin.ok("accounts", "show", "alice", "--json").stdout)
    assert shown["login"] == "alice"
    assert shown["balance"] == "3.0000"
    assert shown["senders"] == ["Shop"]
    assert shown["has_password"] is False
    assert shown["has_smpp_password"] is False
    table = admin.ok("accounts", "show", "alice").stdout
    assert "alice" in table and "Shop" in table


def test_show_of_an_unknown_login_is_refused(admin: Admin) -> None:
    assert admin.refused("accounts", "show", "nobody") == "error: unknown login 'nobody'"


def test_disable_then_enable_flips_the_active_flag(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    account_id = admin.account_id("alice")

    async def active(store: SqlStore) -> bool:
        record = await store.account(account_id)
        assert record is not None
        return record.active

    assert "disabled" in admin.ok("accounts", "disable", "alice").stdout
    assert admin.store(active) is False
    assert "already disabled" in admin.ok("accounts", "disable", "alice").stdout
    assert "enabled" in admin.ok("accounts", "enable", "alice").stdout
    assert admin.store(active) is True


def test_disable_and_enable_of_an_unknown_login_are_refused(admin: Admin) -> None:
    assert "unknown login" in admin.refused("accounts", "disable", "ghost")
    assert "unknown login" in admin.refused("accounts", "enable", "ghost")


def test_set_rate_limit_stores_the_new_rate(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    account_id = admin.account_id("alice")
    admin.ok("accounts", "set-rate-limit", "alice", "30")

    async def rate(store: SqlStore) -> float:
        record = await store.account(account_id)
        assert record is not None
        return record.rate_limit

    assert admin.store(rate) == 30.0
    assert "unlimited" in admin.ok("accounts", "set-rate-limit", "alice", "0").stdout
    assert admin.store(rate) == 0.0


def test_set_rate_limit_refuses_unknown_logins_and_bad_rates(admin: Admin) -> None:
    assert "unknown login" in admin.refused("accounts", "set-rate-limit", "ghost", "5")
    admin.ok("accounts", "create", "alice")
    # Not a number is a usage error of the command line itself (exit 2), still no traceback.
    result = admin("accounts", "set-rate-limit", "alice", "fast")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_set_admin_marks_an_operator_and_off_takes_it_back(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    account_id = admin.account_id("alice")

    async def is_admin(store: SqlStore) -> bool:
        record = await store.account(account_id)
        assert record is not None
        return record.admin

    assert admin.store(is_admin) is False
    assert "is now an operator" in admin.ok("accounts", "set-admin", "alice").stdout
    assert admin.store(is_admin) is True
    assert "already an operator" in admin.ok("accounts", "set-admin", "alice").stdout
    assert "is now not an operator" in admin.ok("accounts", "set-admin", "alice", "--off").stdout
    assert admin.store(is_admin) is False
    assert "unknown login" in admin.refused("accounts", "set-admin", "ghost")
