"""accept(): rate limit, duplicates, money, and group commit, on both engines."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.domain.status import Status
from smsgate.store.interface import Store, StoreError
from smsgate.store.records import Outcome, RateLimit

from ..builders import NOW, PRICE, new_message, request


async def funded(store: Store, login: str = "shop", amount: int = 100 * PRICE) -> int:
    account = await store.create_account(login)
    await store.top_up(account.id, amount)
    return account.id


async def test_accepted_message_reserves_its_parts_and_is_enroute(store: Store) -> None:
    account = await funded(store)
    message = new_message(account, parts=3)
    result = await store.accept(request(account, message))
    assert result.retry_after is None
    assert result.outcomes == (Outcome.ACCEPTED,)
    balance = await store.balance(account)
    assert (balance.balance, balance.reserved, balance.charged) == (97 * PRICE, 3 * PRICE, 0)
    assert await store.statuses(account, [message.id]) == {message.id: Status.ENROUTE}
    assert await store.queue_depth() == 3


async def test_message_costing_more_than_the_balance_is_no_money_and_not_stored(
    store: Store,
) -> None:
    account = await funded(store, amount=2 * PRICE)
    big, small = new_message(account, parts=3, text="big"), new_message(account, text="small")
    result = await store.accept(request(account, big, small))
    assert result.outcomes == (Outcome.NO_MONEY, Outcome.ACCEPTED)
    assert await store.statuses(account, [big.id, small.id]) == {small.id: Status.ENROUTE}
    assert (await store.balance(account)).balance == PRICE


async def test_duplicate_within_two_minutes_is_rejected(store: Store) -> None:
    account = await funded(store)
    await store.accept(request(account, new_message(account)))
    again = new_message(account, now=NOW + 119)
    result = await store.accept(request(account, again, now=NOW + 119))
    assert result.outcomes == (Outcome.DUPLICATE,)
    assert await store.statuses(account, [again.id]) == {}
    assert (await store.balance(account)).reserved == PRICE


async def test_same_text_after_the_window_is_accepted(store: Store) -> None:
    account = await funded(store)
    await store.accept(request(account, new_message(account)))
    later = new_message(account, now=NOW + 121)
    result = await store.accept(request(account, later, now=NOW + 121))
    assert result.outcomes == (Outcome.ACCEPTED,)


async def test_duplicate_within_one_batch_is_rejected(store: Store) -> None:
    account = await funded(store)
    first, second = new_message(account), new_message(account)
    other = new_message(account, phone="380671112233")
    result = await store.accept(request(account, first, second, other))
    assert result.outcomes == (Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.ACCEPTED)


async def test_duplicates_across_concurrent_requests_are_caught(store: Store) -> None:
    account = await funded(store)
    reqs = [request(account, new_message(account)) for _ in range(10)]
    results = await asyncio.wait_for(asyncio.gather(*(store.accept(r) for r in reqs)), 10)
    outcomes = [r.outcomes[0] for r in results]
    assert outcomes.count(Outcome.ACCEPTED) == 1
    assert outcomes.count(Outcome.DUPLICATE) == 9


async def test_same_text_of_two_accounts_is_no_duplicate(store: Store) -> None:
    a, b = await funded(store, "a"), await funded(store, "b")
    ma = new_message(a)
    mb = new_message(b)
    # Same key bytes for both accounts: only the account tells them apart.
    mb = type(mb)(**{**{f: getattr(mb, f) for f in mb.__slots__}, "dedupe_key": ma.dedupe_key})
    assert (await store.accept(request(a, ma))).outcomes == (Outcome.ACCEPTED,)
    assert (await store.accept(request(b, mb))).outcomes == (Outcome.ACCEPTED,)


async def test_rate_limit_refuses_with_retry_after_and_stores_nothing(store: Store) -> None:
    account = await funded(store)
    limit = RateLimit(rate=2.0, burst=2.0)
    first = await store.accept(request(account, new_message(account, text="1"), rate_limit=limit))
    second = await store.accept(request(account, new_message(account, text="2"), rate_limit=limit))
    refused_message = new_message(account, text="3")
    third = await store.accept(request(account, refused_message, rate_limit=limit))
    assert first.retry_after is None and second.retry_after is None
    assert third.retry_after == pytest.approx(0.5)
    assert third.outcomes == ()
    assert await store.statuses(account, [refused_message.id]) == {}
    assert (await store.balance(account)).reserved == 2 * PRICE
    later = await store.accept(
        request(account, new_message(account, text="4"), rate_limit=limit, now=NOW + 0.5)
    )
    assert later.retry_after is None


async def test_rate_limit_is_shared_by_two_nodes(store: Store, second_store: Store) -> None:
    account = await funded(store)
    limit = RateLimit(rate=1.0, burst=1.0)
    one = await store.accept(request(account, new_message(account, text="1"), rate_limit=limit))
    two = await second_store.accept(
        request(account, new_message(account, text="2"), rate_limit=limit)
    )
    assert one.retry_after is None
    assert two.retry_after == pytest.approx(1.0)


async def test_unknown_account_fails_only_its_own_request(store: Store) -> None:
    account = await funded(store)
    good = request(account, new_message(account))
    bad = request(987654, new_message(987654))
    results = await asyncio.wait_for(
        asyncio.gather(store.accept(good), store.accept(bad), return_exceptions=True), 10
    )
    assert results[0].outcomes == (Outcome.ACCEPTED,)  # type: ignore[union-attr]
    assert isinstance(results[1], StoreError)


async def test_id_collision_fails_only_its_own_request(store: Store) -> None:
    account = await funded(store)
    stored = new_message(account, text="stored")
    await store.accept(request(account, stored))
    clash = new_message(account, text="clash", message_id=stored.id)
    fine = new_message(account, text="fine")
    results = await asyncio.wait_for(
        asyncio.gather(
            store.accept(request(account, clash)),
            store.accept(request(account, fine)),
            return_exceptions=True,
        ),
        10,
    )
    assert isinstance(results[0], StoreError)
    assert results[1].outcomes == (Outcome.ACCEPTED,)  # type: ignore[union-attr]
    assert (await store.balance(account)).reserved == 2 * PRICE


async def test_money_is_never_overspent_by_concurrent_nodes(
    store: Store, second_store: Store
) -> None:
    account = await funded(store, amount=10 * PRICE)
    reqs = [request(account, new_message(account, text=f"m{i}")) for i in range(30)]
    results = await asyncio.wait_for(
        asyncio.gather(*((store if i % 2 else second_store).accept(r) for i, r in enumerate(reqs))),
        30,
    )
    accepted = sum(r.outcomes.count(Outcome.ACCEPTED) for r in results)
    assert accepted == 10
    balance = await store.balance(account)
    assert (balance.balance, balance.reserved) == (0, 10 * PRICE)


async def test_aliases_answer_status_for_the_whole_message(store: Store) -> None:
    account = await funded(store)
    message = new_message(account, parts=2, alias_ids=(5_000_001, 5_000_002), door="smpp")
    await store.accept(request(account, message))
    assert await store.statuses(account, [5_000_001, 5_000_002, message.id]) == {
        5_000_001: Status.ENROUTE,
        5_000_002: Status.ENROUTE,
        message.id: Status.ENROUTE,
    }
    view = await store.message(account, 5_000_002)
    assert view is not None and view.id == message.id


async def test_accept_many_answers_each_request_in_order_and_one_failure_stays_its_own(
    store: Store,
) -> None:
    account = await funded(store, amount=2 * PRICE)
    limit = RateLimit(rate=1, burst=2)  # two tokens: the third request is throttled
    first, second, third = (new_message(account, text=f"m{i}") for i in range(3))
    results = await store.accept_many(
        [
            request(account, first, rate_limit=limit),
            request(10**9, new_message(10**9)),  # no such account
            request(account, second, rate_limit=limit),
            request(account, third, rate_limit=limit),
        ]
    )
    ok, unknown, ok2, throttled = results
    assert isinstance(unknown, StoreError)
    assert not isinstance(ok, BaseException) and ok.outcomes == (Outcome.ACCEPTED,)
    assert not isinstance(ok2, BaseException) and ok2.outcomes == (Outcome.ACCEPTED,)
    assert not isinstance(throttled, BaseException) and throttled.retry_after is not None
    statuses = await store.statuses(account, [first.id, second.id, third.id])
    assert statuses == {first.id: Status.ENROUTE, second.id: Status.ENROUTE}
