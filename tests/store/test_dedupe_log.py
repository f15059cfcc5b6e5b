"""Duplicate detection through the append-only dedupe log and each node's memory of it, on
both engines: across nodes, across a restart, after a rolled-back batch, and as the log is
pruned."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from smsgate.store.dedupe_log import PRUNE_EVERY, RETENTION_MARGIN
from smsgate.store.records import Outcome
from smsgate.store.schema import dedupe_log
from smsgate.store.sql_store import SqlStore

from .builders import NOW, PRICE, new_message, request


async def _funded(store: SqlStore, login: str = "shop") -> int:
    account = await store.create_account(login)
    await store.top_up(account.id, 1000 * PRICE)
    return account.id


async def _outcome(store: SqlStore, account: int, text: str, now: float = NOW) -> Outcome:
    message = new_message(account, text=text, now=now)
    (outcome,) = (await store.accept(request(account, message, now=now))).outcomes
    return outcome


async def _log_rows(store: SqlStore) -> int:
    async with store.engines.reader.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(dedupe_log))).scalar())


async def test_a_node_catches_up_with_keys_another_node_stored_since_its_last_look(
    store: SqlStore, second_store: SqlStore
) -> None:
    account = await _funded(store)
    # Both nodes have met the account, so the second look is a catch-up, not a first load.
    assert await _outcome(store, account, "a") is Outcome.ACCEPTED
    assert await _outcome(second_store, account, "b") is Outcome.ACCEPTED
    assert await _outcome(store, account, "c") is Outcome.ACCEPTED
    assert await _outcome(second_store, account, "c", NOW + 1) is Outcome.DUPLICATE
    assert await _outcome(store, account, "b", NOW + 1) is Outcome.DUPLICATE
    assert await _outcome(second_store, account, "a", NOW + 1) is Outcome.DUPLICATE


async def test_duplicates_sent_to_two_nodes_at_once_are_accepted_once(
    store: SqlStore, second_store: SqlStore
) -> None:
    account = await _funded(store)
    results = await asyncio.wait_for(
        asyncio.gather(
            *(
                (store if i % 2 else second_store).accept(
                    request(account, new_message(account, text=f"t{i % 5}"))
                )
                for i in range(40)
            )
        ),
        30,
    )
    outcomes = [r.outcomes[0] for r in results]
    assert outcomes.count(Outcome.ACCEPTED) == 5
    assert outcomes.count(Outcome.DUPLICATE) == 35


async def test_a_restarted_node_still_knows_the_window(store_url: str, store: SqlStore) -> None:
    account = await _funded(store)
    assert await _outcome(store, account, "before restart") is Outcome.ACCEPTED
    await store.close()
    again = SqlStore(store_url)
    await again.open()
    try:
        assert await _outcome(again, account, "before restart", NOW + 60) is Outcome.DUPLICATE
        assert await _outcome(again, account, "before restart", NOW + 121) is Outcome.ACCEPTED
    finally:
        await again.close()


async def test_a_rolled_back_batch_leaves_no_key_behind(store: SqlStore) -> None:
    account = await _funded(store)
    stored = new_message(account, text="stored")
    await store.accept(request(account, stored))
    # Same id as a stored message: its batch rolls back and it fails alone.
    clash = new_message(account, text="clash", message_id=stored.id)
    fine = new_message(account, text="fine")
    await asyncio.gather(
        store.accept(request(account, clash)),
        store.accept(request(account, fine)),
        return_exceptions=True,
    )
    assert await _outcome(store, account, "clash") is Outcome.ACCEPTED
    assert await _outcome(store, account, "fine") is Outcome.DUPLICATE


async def test_the_log_keeps_the_window_and_drops_what_is_older(store: SqlStore) -> None:
    account = await _funded(store)
    for i in range(3):
        assert await _outcome(store, account, f"old {i}") is Outcome.ACCEPTED
    assert await _log_rows(store) == 3
    # Within window + margin nothing goes, whatever the prune timer says.
    inside = NOW + 120 + RETENTION_MARGIN - 1
    assert await _outcome(store, account, "inside", inside) is Outcome.ACCEPTED
    assert await _log_rows(store) == 4
    later = inside + PRUNE_EVERY + 2
    assert await _outcome(store, account, "later", later) is Outcome.ACCEPTED
    assert await _log_rows(store) == 2  # "inside" and "later"
    assert await _outcome(store, account, "inside", later) is Outcome.DUPLICATE
    assert await _outcome(store, account, "old 0", later) is Outcome.ACCEPTED
