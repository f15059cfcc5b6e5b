"""Store's admin side, reads and leases on both engines: accounts, secrets' hashes, money,
sender names, tariffs, status look-ups and leases between nodes."""

from __future__ import annotations

import asyncio
import time

import pytest

from smsgate.domain.status import Status
from smsgate.store.interface import Store, StoreError
from smsgate.store.records import Tariff

from ..builders import NOW, PRICE, new_message, request


async def test_created_account_is_found_by_id_login_and_token_hash(store: Store) -> None:
    account = await store.create_account("shop", currency="USD", rate_limit=5, max_binds=2)
    assert (account.login, account.currency, account.rate_limit, account.max_binds) == (
        "shop",
        "USD",
        5,
        2,
    )
    assert account.active
    await store.set_token_hash(account.id, "tok-hash")
    await store.set_password_hash(account.id, "pw-hash")
    await store.set_smpp_password_hash(account.id, "smpp-hash")
    assert await store.account(account.id) == account
    assert await store.account_by_token_hash("tok-hash") == account
    creds = await store.credentials("shop")
    assert creds is not None
    assert (creds.account, creds.password_hash, creds.smpp_password_hash) == (
        account,
        "pw-hash",
        "smpp-hash",
    )
    assert await store.credentials("nobody") is None
    assert await store.account(account.id + 100) is None


async def test_duplicate_login_and_token_hash_are_store_errors(store: Store) -> None:
    a = await store.create_account("shop")
    b = await store.create_account("other")
    with pytest.raises(StoreError):
        await store.create_account("shop")
    await store.set_token_hash(a.id, "same")
    with pytest.raises(StoreError):
        await store.set_token_hash(b.id, "same")


async def test_setters_on_an_unknown_account_are_store_errors(store: Store) -> None:
    for call in (
        store.set_token_hash(999, "x"),
        store.set_active(999, False),
        store.set_rate_limit(999, 1.0),
        store.top_up(999, 10),
        store.balance(999),
        store.add_originator(999, "Shop"),
        store.set_tariff(Tariff(999, "380", 1)),
    ):
        with pytest.raises(StoreError):
            await call


async def test_active_and_rate_limit_are_changed(store: Store) -> None:
    account = await store.create_account("shop")
    await store.set_active(account.id, False)
    await store.set_rate_limit(account.id, 0)
    changed = await store.account(account.id)
    assert changed is not None and (changed.active, changed.rate_limit) == (False, 0)


async def test_top_up_adds_and_never_makes_the_balance_negative(store: Store) -> None:
    account = await store.create_account("shop")
    assert (await store.top_up(account.id, 50_000)).balance == 50_000
    assert (await store.top_up(account.id, -20_000)).balance == 30_000
    with pytest.raises(StoreError):
        await store.top_up(account.id, -40_000)
    assert (await store.balance(account.id)).balance == 30_000


async def test_originators_are_per_account(store: Store) -> None:
    a = await store.create_account("a")
    b = await store.create_account("b")
    await store.add_originator(a.id, "Shop")
    await store.add_originator(a.id, "Alpha")
    await store.add_originator(a.id, "Shop")  # idempotent
    assert await store.originators(a.id) == ["Alpha", "Shop"]
    assert await store.originators(b.id) == []
    assert await store.remove_originator(b.id, "Shop") is False
    assert await store.remove_originator(a.id, "Shop") is True
    assert await store.originators(a.id) == ["Alpha"]


async def test_tariffs_are_the_accounts_own_and_the_default_plan(store: Store) -> None:
    a = await store.create_account("a")
    b = await store.create_account("b")
    await store.set_tariff(Tariff(None, "", 5_000))
    await store.set_tariff(Tariff(None, "380", 4_000))
    await store.set_tariff(Tariff(None, "380", 4_500))  # replaces
    await store.set_tariff(Tariff(a.id, "38067", 3_000))
    assert await store.tariffs(a.id) == [
        Tariff(a.id, "38067", 3_000),
        Tariff(None, "", 5_000),
        Tariff(None, "380", 4_500),
    ]
    assert await store.tariffs(b.id) == [Tariff(None, "", 5_000), Tariff(None, "380", 4_500)]
    assert await store.remove_tariff(a.id, "38067") is True
    assert await store.remove_tariff(a.id, "38067") is False
    assert await store.remove_tariff(None, "380") is True
    with pytest.raises(StoreError):
        await store.set_tariff(Tariff(None, "+380", 1))


async def test_list_accounts_summarises_money_secrets_and_senders(store: Store) -> None:
    a = await store.create_account("a")
    await store.create_account("b")
    await store.top_up(a.id, 7)
    await store.set_token_hash(a.id, "t")
    await store.add_originator(a.id, "Shop")
    summaries = await store.list_accounts()
    assert [s.account.login for s in summaries] == ["a", "b"]
    first = summaries[0]
    assert (first.balance.balance, first.has_token, first.has_smpp_password, first.senders) == (
        7,
        True,
        False,
        ("Shop",),
    )


async def test_statuses_of_unknown_ids_are_absent(store: Store) -> None:
    account = await store.create_account("a")
    await store.top_up(account.id, 10 * PRICE)
    message = new_message(account.id)
    await store.accept(request(account.id, message))
    assert await store.statuses(account.id, [message.id, 1, 2]) == {message.id: Status.ENROUTE}
    assert await store.statuses(account.id, []) == {}


async def test_statuses_of_100_ids_are_index_lookups(store: Store) -> None:
    account = await store.create_account("a")
    await store.top_up(account.id, 10_000 * PRICE)
    messages = [new_message(account.id, text=f"m{i}") for i in range(1000)]
    await store.accept(request(account.id, *messages))
    ids = [m.id for m in messages[::10]]
    await store.statuses(account.id, ids)  # warm the pool
    timings = []
    for _ in range(20):
        t0 = time.perf_counter()
        assert len(await store.statuses(account.id, ids)) == 100
        timings.append(time.perf_counter() - t0)
    assert sorted(timings)[-2] < 0.05


async def test_message_view_is_only_the_owners(store: Store) -> None:
    owner = await store.create_account("owner")
    other = await store.create_account("other")
    await store.top_up(owner.id, 10 * PRICE)
    message = new_message(owner.id)
    await store.accept(request(owner.id, message))
    view = await store.message(owner.id, message.id)
    assert view is not None
    assert (view.status, view.phone, view.sender, view.created_at, view.done_at) == (
        Status.ENROUTE,
        message.phone,
        message.sender,
        NOW,
        None,
    )
    assert await store.message(other.id, message.id) is None


async def test_lease_is_renewed_by_its_holder_and_taken_over_after_expiry(
    store: Store, second_store: Store
) -> None:
    assert await store.take_lease("connector:op", "node-1", NOW, 10) is True
    assert await second_store.take_lease("connector:op", "node-2", NOW + 5, 10) is False
    assert await store.take_lease("connector:op", "node-1", NOW + 8, 10) is True  # renews
    assert await second_store.take_lease("connector:op", "node-2", NOW + 15, 10) is False
    assert await second_store.take_lease("connector:op", "node-2", NOW + 18, 10) is True
    assert await store.take_lease("connector:op", "node-1", NOW + 19, 10) is False


async def test_leases_taken_together_each_say_whose_they_are_and_are_read_back_live(
    store: Store, second_store: Store
) -> None:
    assert await second_store.take_lease("connector:b", "node-2", NOW, 10)
    takes = [("node:1", 10.0), ("connector:a", 3.0), ("connector:b", 3.0)]
    assert await store.take_leases("node-1", NOW + 1, takes) == [True, True, False]
    assert await store.live_leases(NOW + 2) == {
        "node:1": ("node-1", NOW + 11),
        "connector:a": ("node-1", NOW + 4),
        "connector:b": ("node-2", NOW + 10),
    }
    # Only the live ones: connector:a lapsed at NOW + 4.
    assert set(await second_store.live_leases(NOW + 5)) == {"node:1", "connector:b"}
    assert await second_store.take_leases("node-2", NOW + 5, [("connector:a", 3.0)]) == [True]
    assert await store.take_leases("node-1", NOW + 6, []) == []


async def test_released_lease_is_free_for_another_holder(store: Store) -> None:
    assert await store.take_lease("k", "a", NOW, 60)
    await store.release_lease("k", "b")  # not b's: stays
    assert not await store.take_lease("k", "b", NOW + 1, 60)
    await store.release_lease("k", "a")
    assert await store.take_lease("k", "b", NOW + 2, 60)


async def test_concurrent_lease_takers_get_exactly_one_lease(
    store: Store, second_store: Store
) -> None:
    takers = [
        (store if i % 2 else second_store).take_lease("busy", f"node-{i}", NOW, 30)
        for i in range(10)
    ]
    results = await asyncio.wait_for(asyncio.gather(*takers), 30)
    assert results.count(True) == 1


async def test_the_admin_flag_is_off_at_creation_and_follows_set_admin(store: Store) -> None:
    account = await store.create_account("ops")
    assert not account.admin
    await store.set_admin(account.id, True)
    await store.set_password_hash(account.id, "pw-hash")
    found = await store.account(account.id)
    creds = await store.credentials("ops")
    assert found is not None and found.admin
    assert creds is not None and creds.account.admin
    assert [s.account.admin for s in await store.list_accounts()] == [True]
    await store.set_admin(account.id, False)
    found = await store.account(account.id)
    assert found is not None and not found.admin
    with pytest.raises(StoreError):
        await store.set_admin(account.id + 100, True)
