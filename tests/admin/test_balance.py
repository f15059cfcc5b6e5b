from __future__ import annotations

import json

from sqlalchemy import Connection

from smsgate.store.records import Balance
from smsgate.store.sql_store import SqlStore

from .admin_cli import Admin


def _balance(admin: Admin, login: str) -> int:
    account_id = admin.account_id(login)

    async def work(store: SqlStore) -> Balance:
        return await store.balance(account_id)

    return admin.store(work).balance


def test_top_up_adds_decimal_amounts_in_ten_thousandths(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("balance", "top-up", "alice", "100")
    result = admin.ok("balance", "top-up", "alice", "12.5")
    assert "+12.5000" in result.stdout and "112.5000 UAH" in result.stdout
    assert _balance(admin, "alice") == 1_125_000


def test_negative_correction_needs_allow_negative(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice", "--balance", "10")
    message = admin.refused("balance", "top-up", "alice", "-2")
    assert "--allow-negative" in message
    assert _balance(admin, "alice") == 100_000
    result = admin.ok("balance", "top-up", "alice", "-2.0001", "--allow-negative")
    assert "-2.0001" in result.stdout and "7.9999" in result.stdout
    assert _balance(admin, "alice") == 79_999


def test_a_correction_never_takes_the_balance_below_zero(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice", "--balance", "1")
    message = admin.refused("balance", "top-up", "alice", "-1.0001", "--allow-negative")
    assert "negative" in message
    assert _balance(admin, "alice") == 10_000
    admin.ok("balance", "top-up", "alice", "-1", "--allow-negative")
    assert _balance(admin, "alice") == 0


def test_bad_and_zero_amounts_are_refused(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    for amount in ("ten", "1,5", "1.00001", "1e3", ""):
        assert "bad amount" in admin.refused("balance", "top-up", "alice", amount), amount
    assert "zero" in admin.refused("balance", "top-up", "alice", "0.0")
    assert _balance(admin, "alice") == 0


def test_top_up_of_an_unknown_login_is_refused(admin: Admin) -> None:
    assert admin.refused("balance", "top-up", "ghost", "5") == "error: unknown login 'ghost'"


def test_show_reports_balance_reserved_and_charged(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice", "--currency", "EUR", "--balance", "8111.17")
    shown = json.loads(admin.ok("balance", "show", "alice", "--json").stdout)
    assert shown == {
        "login": "alice",
        "currency": "EUR",
        "balance": "8111.1700",
        "reserved": "0.0000",
        "charged": "0.0000",
    }
    table = admin.ok("balance", "show", "alice").stdout
    assert "8111.1700" in table and "EUR" in table


def test_show_of_an_unknown_login_is_refused(admin: Admin) -> None:
    assert "unknown login" in admin.refused("balance", "show", "ghost")


def test_check_proves_each_balance_is_the_sum_of_its_ledger(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice", "--balance", "10")
    admin.ok("accounts", "create", "bob")
    admin.ok("balance", "top-up", "bob", "5")
    admin.ok("balance", "top-up", "bob", "-1", "--allow-negative")
    rows = json.loads(admin.ok("balance", "check", "--json").stdout)
    assert [(r["login"], r["balance"], r["ledger"], r["ok"]) for r in rows] == [
        ("alice", "10.0000", "10.0000", True),
        ("bob", "4.0000", "4.0000", True),
    ]


def test_check_fails_when_a_balance_moved_outside_the_ledger(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice", "--balance", "10")

    async def tamper(store: SqlStore) -> None:
        def work(conn: Connection) -> None:
            conn.exec_driver_sql("UPDATE accounts SET balance = balance + 1")

        await store.engines.writer.run(work)

    admin.store(tamper)
    message = admin.refused("balance", "check")
    assert message == "error: the ledger does not add up for alice"
