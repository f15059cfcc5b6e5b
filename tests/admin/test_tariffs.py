from __future__ import annotations

import json
from pathlib import Path

from smsgate.store.records import Tariff
from smsgate.store.sql_store import SqlStore

from .admin_cli import Admin


def _tariffs(admin: Admin, login: str | None = None) -> list[Tariff]:
    account_id = 0 if login is None else admin.account_id(login)

    async def work(store: SqlStore) -> list[Tariff]:
        return await store.tariffs(account_id)

    return admin.store(work)


def test_set_without_account_prices_the_default_plan(admin: Admin) -> None:
    result = admin.ok("tariffs", "set", "380", "0.55")
    assert "default plan" in result.stdout and "0.5500" in result.stdout
    admin.ok("tariffs", "set", "default", "1")
    assert _tariffs(admin) == [Tariff(None, "", 10_000), Tariff(None, "380", 5_500)]


def test_an_empty_prefix_is_the_catch_all_too(admin: Admin) -> None:
    admin.ok("tariffs", "set", "", "0.3")
    assert _tariffs(admin) == [Tariff(None, "", 3_000)]


def test_setting_a_prefix_again_changes_its_price(admin: Admin) -> None:
    admin.ok("tariffs", "set", "380", "0.55")
    admin.ok("tariffs", "set", "380", "0.60")
    assert _tariffs(admin) == [Tariff(None, "380", 6_000)]


def test_set_with_account_prices_only_that_account(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("accounts", "create", "bob")
    admin.ok("tariffs", "set", "38050", "0.4", "--account", "alice")
    alice = admin.account_id("alice")
    assert _tariffs(admin, "alice") == [Tariff(alice, "38050", 4_000)]
    assert _tariffs(admin, "bob") == []
    assert _tariffs(admin) == []


def test_bad_prefixes_and_prices_are_refused(admin: Admin) -> None:
    for prefix in ("+380", "38O", "38-0", "1234567890123456"):
        assert "bad prefix" in admin.refused("tariffs", "set", prefix, "1"), prefix
    for price in ("cheap", "0,5", "0.00001"):
        assert "bad price" in admin.refused("tariffs", "set", "380", price), price
    assert "not negative" in admin.refused("tariffs", "set", "380", "-1")
    assert _tariffs(admin) == []


def test_tariff_commands_refuse_unknown_accounts(admin: Admin) -> None:
    assert "unknown login" in admin.refused("tariffs", "set", "380", "1", "--account", "ghost")
    assert "unknown login" in admin.refused("tariffs", "remove", "380", "--account", "ghost")
    assert "unknown login" in admin.refused("tariffs", "list", "--account", "ghost")


def test_remove_deletes_one_tariff_and_refuses_a_missing_one(admin: Admin) -> None:
    admin.ok("tariffs", "set", "380", "1")
    admin.ok("tariffs", "set", "default", "2")
    admin.ok("tariffs", "remove", "380")
    assert _tariffs(admin) == [Tariff(None, "", 20_000)]
    message = admin.refused("tariffs", "remove", "380")
    assert message == "error: the default plan has no tariff for prefix 380"
    admin.ok("tariffs", "remove", "default")
    assert _tariffs(admin) == []


def test_remove_with_account_leaves_the_default_plan_alone(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("tariffs", "set", "380", "1")
    admin.ok("tariffs", "set", "380", "0.5", "--account", "alice")
    admin.ok("tariffs", "remove", "380", "--account", "alice")
    assert _tariffs(admin, "alice") == [Tariff(None, "380", 10_000)]
    assert "no tariff" in admin.refused("tariffs", "remove", "380", "--account", "alice")


def test_list_shows_the_default_plan_or_an_account_then_the_default(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("tariffs", "set", "default", "1")
    admin.ok("tariffs", "set", "380", "0.5", "--account", "alice")
    assert json.loads(admin.ok("tariffs", "list", "--json").stdout) == [
        {"plan": "default", "prefix": "", "price": "1.0000"}
    ]
    assert json.loads(admin.ok("tariffs", "list", "--account", "alice", "--json").stdout) == [
        {"plan": "alice", "prefix": "380", "price": "0.5000"},
        {"plan": "default", "prefix": "", "price": "1.0000"},
    ]
    table = admin.ok("tariffs", "list", "--account", "alice").stdout
    assert "0.5000" in table and "default" in table


def test_import_sets_every_row_of_the_file(admin: Admin, tmp_path: Path) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("tariffs", "set", "7", "9")  # rows the file does not name are kept
    prices = tmp_path / "prices.csv"
    prices.write_text("prefix,price\n380,0.5\n38050, 0.45\n\ndefault,1\n", encoding="utf-8")
    result = admin.ok("tariffs", "import", str(prices))
    assert "3 tariff(s) imported" in result.stdout
    assert _tariffs(admin) == [
        Tariff(None, "", 10_000),
        Tariff(None, "380", 5_000),
        Tariff(None, "38050", 4_500),
        Tariff(None, "7", 90_000),
    ]
    admin.ok("tariffs", "import", str(prices), "--account", "alice")
    assert len([t for t in _tariffs(admin, "alice") if t.account_id is not None]) == 3


def test_import_of_a_file_with_bad_rows_reports_each_and_imports_nothing(
    admin: Admin, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text("380,0.5\n+44,1\n49,abc\n380,0.6\n1,2,3\n", encoding="utf-8")
    result = admin("tariffs", "import", str(prices))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert [line.split(": ", 2)[1] for line in lines[:-1]] == [
        "line 2",
        "line 3",
        "line 4",
        "line 5",
    ]
    assert "bad prefix '+44'" in lines[0]
    assert "bad price 'abc'" in lines[1]
    assert "already on line 1" in lines[2]
    assert "expected 2 columns" in lines[3]
    assert lines[-1] == f"error: {prices}: 4 bad row(s), nothing imported"
    assert _tariffs(admin) == []


def test_import_of_an_unreadable_or_empty_file_is_refused(admin: Admin, tmp_path: Path) -> None:
    assert "cannot read" in admin.refused("tariffs", "import", str(tmp_path / "missing.csv"))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "cannot read" in admin.refused("tariffs", "import", str(binary))
    empty = tmp_path / "empty.csv"
    empty.write_text("prefix,price\n", encoding="utf-8")
    assert "no tariff rows" in admin.refused("tariffs", "import", str(empty))


def test_import_for_an_unknown_account_is_refused(admin: Admin, tmp_path: Path) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text("380,0.5\n", encoding="utf-8")
    message = admin.refused("tariffs", "import", str(prices), "--account", "ghost")
    assert message == "error: unknown login 'ghost'"
