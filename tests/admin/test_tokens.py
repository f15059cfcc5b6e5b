from __future__ import annotations

from smsgate.gateway.credentials import hash_token
from smsgate.store.records import AccountRecord
from smsgate.store.sql_store import SqlStore

from .admin_cli import Admin, token_in


def _owner_of(admin: Admin, token: str) -> str | None:
    async def work(store: SqlStore) -> AccountRecord | None:
        return await store.account_by_token_hash(hash_token(token))

    record = admin.store(work)
    return None if record is None else record.login


def _created_without_token(admin: Admin, login: str) -> None:
    """An account made straight in the store (an import, say) has no token yet."""

    async def work(store: SqlStore) -> None:
        await store.create_account(login)

    admin.store(work)


def test_rotate_replaces_the_token_and_the_old_one_stops_working(admin: Admin) -> None:
    old = token_in(admin.ok("accounts", "create", "alice"))
    result = admin.ok("tokens", "rotate", "alice")
    new = token_in(result)
    assert new != old
    assert "no longer works" in result.stdout
    assert _owner_of(admin, new) == "alice"
    assert _owner_of(admin, old) is None


def test_issue_is_refused_when_the_account_already_has_a_token(admin: Admin) -> None:
    old = token_in(admin.ok("accounts", "create", "alice"))
    message = admin.refused("tokens", "issue", "alice")
    assert "already has a token" in message and "tokens rotate" in message
    assert _owner_of(admin, old) == "alice"


def test_issue_and_rotate_refuse_unknown_logins(admin: Admin) -> None:
    assert admin.refused("tokens", "issue", "ghost") == "error: unknown login 'ghost'"
    assert admin.refused("tokens", "rotate", "ghost") == "error: unknown login 'ghost'"


def test_issue_gives_an_account_without_a_token_its_first_one(admin: Admin) -> None:
    _created_without_token(admin, "bob")
    token = token_in(admin.ok("tokens", "issue", "bob"))
    assert _owner_of(admin, token) == "bob"


def test_rotate_is_refused_when_there_is_no_token_to_rotate(admin: Admin) -> None:
    _created_without_token(admin, "bob")
    message = admin.refused("tokens", "rotate", "bob")
    assert "no token to rotate" in message and "tokens issue" in message


def test_each_rotation_prints_a_fresh_token_that_authenticates(admin: Admin) -> None:
    admin.ok("accounts", "create", "bob")
    first = token_in(admin.ok("tokens", "rotate", "bob"))
    second = token_in(admin.ok("tokens", "rotate", "bob"))
    assert first != second
    assert _owner_of(admin, second) == "bob"
    assert _owner_of(admin, first) is None
