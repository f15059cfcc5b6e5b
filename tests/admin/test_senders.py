from __future__ import annotations

import json

from smsgate.store.sql_store import SqlStore

from .admin_cli import Admin


def _senders(admin: Admin, login: str) -> list[str]:
    account_id = admin.account_id(login)

    async def work(store: SqlStore) -> list[str]:
        return await store.originators(account_id)

    return admin.store(work)


def test_add_list_and_remove_sender_names(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("senders", "add", "alice", "Shop")
    admin.ok("senders", "add", "alice", "380501234567")
    assert _senders(admin, "alice") == ["380501234567", "Shop"]
    assert json.loads(admin.ok("senders", "list", "alice", "--json").stdout) == [
        "380501234567",
        "Shop",
    ]
    assert "Shop" in admin.ok("senders", "list", "alice").stdout
    admin.ok("senders", "remove", "alice", "Shop")
    assert _senders(admin, "alice") == ["380501234567"]


def test_adding_a_name_twice_keeps_one_and_says_so(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("senders", "add", "alice", "Shop")
    assert "already had" in admin.ok("senders", "add", "alice", "Shop").stdout
    assert _senders(admin, "alice") == ["Shop"]


def test_names_outside_the_sender_rules_are_refused(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    for name in ("TwelveLetter", "1234567890123456", "", "Shop!", " Shop", "Магазин"):
        assert "bad sender name" in admin.refused("senders", "add", "alice", name), name
    assert _senders(admin, "alice") == []


def test_longest_allowed_names_are_accepted(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("senders", "add", "alice", "ElevenChars")
    admin.ok("senders", "add", "alice", "123456789012345")
    admin.ok("senders", "add", "alice", "My Shop.ua")
    assert _senders(admin, "alice") == ["123456789012345", "ElevenChars", "My Shop.ua"]


def test_removing_a_name_the_account_lacks_is_refused(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    assert admin.refused("senders", "remove", "alice", "Shop") == (
        "error: 'alice' has no sender name 'Shop'"
    )


def test_sender_commands_refuse_unknown_logins(admin: Admin) -> None:
    assert "unknown login" in admin.refused("senders", "add", "ghost", "Shop")
    assert "unknown login" in admin.refused("senders", "remove", "ghost", "Shop")
    assert "unknown login" in admin.refused("senders", "list", "ghost")
