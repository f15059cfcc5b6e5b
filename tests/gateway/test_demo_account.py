"""The demo account `make run` prints: made once with its money, sender name and number, its
secrets kept in a file and reused; a demo made before it had a number gets 7000 at the next
start, and a number already given to another account is left to it."""

from __future__ import annotations

from pathlib import Path

from smsgate.gateway.demo_account import DEMO_LOGIN, DEMO_NUMBER, ensure_demo_account
from smsgate.store.memory import MemoryStore
from smsgate.store.records import NumberRoute


async def routes(store: MemoryStore) -> list[tuple[str, int]]:
    return [(r.number, r.account_id) for r in await store.number_routes()]


async def test_the_demo_is_made_once_with_its_number_and_the_same_secrets(tmp_path: Path) -> None:
    store = MemoryStore()
    first = await ensure_demo_account(store, tmp_path / "demo.json")
    again = await ensure_demo_account(store, tmp_path / "demo.json")
    creds = await store.credentials(DEMO_LOGIN)
    assert creds is not None and again == first
    assert await routes(store) == [(DEMO_NUMBER, creds.account.id)]


async def test_a_demo_made_before_it_had_a_number_gets_one(tmp_path: Path) -> None:
    store = MemoryStore()
    await ensure_demo_account(store, tmp_path / "demo.json")
    creds = await store.credentials(DEMO_LOGIN)
    assert creds is not None
    assert await store.remove_number(DEMO_NUMBER)
    await ensure_demo_account(store, tmp_path / "demo.json")
    assert await routes(store) == [(DEMO_NUMBER, creds.account.id)]


async def test_a_number_another_account_has_is_left_to_it(tmp_path: Path) -> None:
    store = MemoryStore()
    shop = await store.create_account("shop")
    await store.add_number(NumberRoute(DEMO_NUMBER, shop.id))
    await ensure_demo_account(store, tmp_path / "demo.json")
    assert await routes(store) == [(DEMO_NUMBER, shop.id)]
