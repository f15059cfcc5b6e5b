from __future__ import annotations

import re

from smsgate.gateway.credentials import verify_password
from smsgate.store.records import Credentials
from smsgate.store.sql_store import SqlStore

from .admin_cli import Admin

GENERATED = re.compile(r"password \(shown once, store it now\): (\S+)")


def _credentials(admin: Admin, login: str) -> Credentials:
    async def work(store: SqlStore) -> Credentials | None:
        return await store.credentials(login)

    creds = admin.store(work)
    assert creds is not None
    return creds


def test_given_http_password_is_stored_as_a_hash_that_verifies(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    result = admin.ok("passwords", "set", "alice", "--password", "correct horse")
    assert "correct horse" not in result.stdout  # a given password is never echoed
    stored = _credentials(admin, "alice").password_hash
    assert stored is not None and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert _credentials(admin, "alice").smpp_password_hash is None


def test_generated_http_password_is_shown_once_and_verifies(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    match = GENERATED.search(admin.ok("passwords", "set", "alice", "--generate").stdout)
    assert match is not None
    password = match.group(1)
    assert len(password) == 12
    stored = _credentials(admin, "alice").password_hash
    assert stored is not None and verify_password(password, stored)


def test_smpp_password_is_set_apart_from_the_http_one(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("passwords", "set-smpp", "alice", "--password", "sm4pass")
    creds = _credentials(admin, "alice")
    assert creds.smpp_password_hash is not None
    assert verify_password("sm4pass", creds.smpp_password_hash)
    assert creds.password_hash is None


def test_generated_smpp_password_fits_eight_characters(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    match = GENERATED.search(admin.ok("passwords", "set-smpp", "alice", "--generate").stdout)
    assert match is not None
    password = match.group(1)
    assert len(password) == 8
    stored = _credentials(admin, "alice").smpp_password_hash
    assert stored is not None and verify_password(password, stored)


def test_smpp_password_longer_than_eight_characters_is_refused(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    message = admin.refused("passwords", "set-smpp", "alice", "--password", "ninechars")
    assert "at most 8 characters" in message and "has 9" in message
    assert _credentials(admin, "alice").smpp_password_hash is None


def test_smpp_password_must_be_printable_ascii(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    assert "printable ASCII" in admin.refused(
        "passwords", "set-smpp", "alice", "--password", "пароль"
    )


def test_exactly_one_of_password_or_generate_is_required(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    for command in ("set", "set-smpp"):
        assert "exactly one" in admin.refused("passwords", command, "alice")
        both = admin.refused("passwords", command, "alice", "--password", "abc", "--generate")
        assert "exactly one" in both
    assert "must not be empty" in admin.refused("passwords", "set", "alice", "--password", "")
    creds = _credentials(admin, "alice")
    assert creds.password_hash is None and creds.smpp_password_hash is None


def test_passwords_of_unknown_logins_are_refused(admin: Admin) -> None:
    assert "unknown login" in admin.refused("passwords", "set", "ghost", "--generate")
    assert "unknown login" in admin.refused("passwords", "set-smpp", "ghost", "--generate")
