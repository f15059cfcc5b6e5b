"""`admin numbers`, `admin suppressions` and `admin inbound unroutable`: numbers given to
accounts (with keywords on a shared number), the opt-out lists, and the inbound SMS no
account took."""

from __future__ import annotations

import json

from smsgate.store.records import NewInbound
from smsgate.store.sql_store import SqlStore

from .admin_cli import Admin


def test_numbers_and_keywords_are_given_listed_and_taken_back(admin: Admin) -> None:
    admin.ok("accounts", "create", "shop")
    admin.ok("accounts", "create", "cafe")
    admin.ok("numbers", "add", "shop", "+7000")
    admin.ok("numbers", "add", "cafe", "7000", "--keyword", "Coffee")
    assert json.loads(admin.ok("numbers", "list", "--json").stdout) == [
        {"number": "7000", "keyword": None, "login": "shop"},
        {"number": "7000", "keyword": "coffee", "login": "cafe"},
    ]
    assert "already belongs" in admin.refused("numbers", "add", "cafe", "7000")
    assert "not a phone number" in admin.refused("numbers", "add", "cafe", "70a0")
    assert "one word" in admin.refused("numbers", "add", "cafe", "7001", "--keyword", "two words")
    admin.ok("numbers", "remove", "7000", "--keyword", "COFFEE")
    assert "belongs to no account" in admin.refused("numbers", "remove", "7000", "--keyword", "x")
    assert "shop" in admin.ok("numbers", "list").stdout


def test_suppressions_are_added_listed_and_removed(admin: Admin) -> None:
    admin.ok("accounts", "create", "shop")
    assert "may no longer" in admin.ok("suppressions", "add", "shop", "+380 67 111 2233").stdout
    assert "already" in admin.ok("suppressions", "add", "shop", "380671112233").stdout
    [entry] = json.loads(admin.ok("suppressions", "list", "shop", "--json").stdout)
    assert (entry["phone"], entry["by"]) == ("380671112233", "admin")
    assert "not a phone number" in admin.refused("suppressions", "add", "shop", "12")
    admin.ok("suppressions", "remove", "shop", "380671112233")
    assert "is not on the suppression list" in admin.refused(
        "suppressions", "remove", "shop", "380671112233"
    )


def test_unroutable_inbound_sms_are_listed_oldest_first(admin: Admin) -> None:
    admin.ok("accounts", "create", "shop")

    async def work(store: SqlStore) -> None:
        await store.store_inbound(
            [
                NewInbound(
                    "380501112233",
                    "7999",
                    f"lost {n}",
                    0,
                    1,
                    1,
                    "op",
                    100.0 + n,
                    reason="number 7999 belongs to no account",
                )
                for n in range(3)
            ]
        )

    admin.store(work)
    found = json.loads(admin.ok("inbound", "unroutable", "--json").stdout)
    assert [m["text"] for m in found] == ["lost 0", "lost 1", "lost 2"]
    assert found[0]["reason"] == "number 7999 belongs to no account"
    later = json.loads(
        admin.ok("inbound", "unroutable", "--json", "--after", str(found[0]["id"])).stdout
    )
    assert [m["text"] for m in later] == ["lost 1", "lost 2"]
    assert "lost 2" in admin.ok("inbound", "unroutable").stdout
