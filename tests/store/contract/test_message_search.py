"""search_messages(): the message log, alike on every store: only the account's own messages,
newest first, each filter narrowing it, pages that neither skip nor repeat a message."""

from __future__ import annotations

import dataclasses

from smsgate.domain.ids import MAX_ID, first_id_at
from smsgate.domain.status import Status
from smsgate.store.interface import Store
from smsgate.store.records import MessageFilter

from ..builders import NOW, PRICE, new_message, request


async def funded(store: Store, login: str) -> int:
    account = await store.create_account(login)
    await store.top_up(account.id, 200 * PRICE)
    return account.id


async def test_the_log_is_the_accounts_own_messages_newest_first_with_what_was_sent(
    store: Store,
) -> None:
    shop, other = await funded(store, "shop"), await funded(store, "other")
    mine = [new_message(shop, text=f"m{n}", now=NOW + n) for n in range(3)]
    long = new_message(shop, text="long one", parts=2, door="smpp", now=NOW + 5)
    await store.accept(request(shop, *mine, long))
    await store.accept(request(other, new_message(other, text="theirs")))

    lines = await store.search_messages(shop, MessageFilter(), 10)

    assert [line.id for line in lines] == sorted([m.id for m in [*mine, long]], reverse=True)
    first = lines[0]
    assert (first.text, first.door, first.parts, first.price) == ("long one", "smpp", 2, 2 * PRICE)
    assert (first.status, first.phone, first.sender) == (Status.ENROUTE, "380501234567", "Shop")
    assert first.created_at == NOW + 5


def minted(now: float, n: int = 0) -> int:
    """An id as a node minting it at `now` would (ids are time-ordered; a period bounds them)."""
    return first_id_at(now) + n


async def test_each_filter_narrows_the_log(store: Store) -> None:
    shop = await funded(store, "shop")
    a = new_message(shop, text="a", phone="380501110000", door="json", now=NOW)
    a = dataclasses.replace(a, id=minted(NOW))
    b = new_message(shop, text="b", phone="380671110000", door="http", now=NOW + 10)
    b = dataclasses.replace(b, id=minted(NOW + 10))
    c = new_message(shop, text="c", phone="380502220000", door="json", now=NOW + 20)
    c = dataclasses.replace(c, id=minted(NOW + 20))
    await store.accept(request(shop, a, b, c))
    assert await store.cancel(shop, c.id, NOW + 21)

    async def ids(**where: object) -> list[int]:
        found = await store.search_messages(shop, MessageFilter(**where), 10)  # type: ignore[arg-type]
        return [line.id for line in found]

    assert await ids(phone="38050") == [c.id, a.id]
    assert await ids(number="380502220000") == [c.id]
    assert await ids(number="38050222000") == []  # a whole number, not a prefix
    assert await ids(phone="%") == []  # a wildcard is a character, not a pattern
    assert await ids(door="http") == [b.id]
    assert await ids(status=Status.REJECTD) == [c.id]
    assert await ids(status=Status.UNDELIV) == []
    assert await ids(status=Status.ENROUTE) == [b.id, a.id]
    assert await ids(sender="Shop") == [c.id, b.id, a.id]
    assert await ids(sender="Other") == []
    assert await ids(since=NOW + 10) == [c.id, b.id]
    assert await ids(until=NOW + 10) == [a.id]
    assert await ids(since=NOW + 5, until=NOW + 15) == [b.id]
    assert await ids(message_id=b.id) == [b.id]


async def test_pages_by_cursor_cover_the_log_once(store: Store) -> None:
    shop = await funded(store, "shop")
    sent = [new_message(shop, text=f"m{n}") for n in range(7)]
    await store.accept(request(shop, *sent))
    seen: list[int] = []
    cursor: int | None = None
    while True:
        page = await store.search_messages(shop, MessageFilter(before_id=cursor), 3)
        if not page:
            break
        seen.extend(line.id for line in page)
        cursor = page[-1].id
    assert seen == sorted((m.id for m in sent), reverse=True)


async def test_another_accounts_message_is_not_found_by_its_id(store: Store) -> None:
    shop, other = await funded(store, "shop"), await funded(store, "other")
    theirs = new_message(other, text="theirs")
    await store.accept(request(other, theirs))
    assert await store.search_messages(shop, MessageFilter(message_id=theirs.id), 10) == []


async def test_a_client_ref_is_kept_with_its_message(store: Store) -> None:
    shop = await funded(store, "shop")
    tagged = dataclasses.replace(new_message(shop, text="tagged"), client_ref="order-17")
    plain = new_message(shop, text="plain", now=NOW + 1)
    await store.accept(request(shop, tagged, plain))
    lines = await store.search_messages(shop, MessageFilter(), 10)
    assert [(line.id, line.client_ref) for line in lines] == [
        (plain.id, None),
        (tagged.id, "order-17"),
    ]
    view = await store.message(shop, tagged.id)
    assert view is not None and view.client_ref == "order-17"


async def test_a_period_finds_messages_minted_near_it_and_old_layout_ids_first(
    store: Store,
) -> None:
    shop = await funded(store, "shop")
    hour = 3600.0
    # A message whose id was minted minutes before it was stored (an SMPP message held for its
    # parts) is found by its created_at; one stored days later is not.
    held = dataclasses.replace(new_message(shop, text="held", now=NOW), id=minted(NOW - 300))
    late = dataclasses.replace(new_message(shop, text="late", now=NOW + 3 * 86400), id=minted(NOW))
    early = dataclasses.replace(
        new_message(shop, text="early", now=NOW - hour), id=minted(NOW - hour)
    )
    # Ids of the earlier 63-bit layout are above MAX_ID whatever their time.
    legacy = dataclasses.replace(new_message(shop, text="legacy", now=NOW + 1), id=MAX_ID + 12345)
    old = dataclasses.replace(new_message(shop, text="old", now=NOW - 9 * hour), id=MAX_ID + 7)
    await store.accept(request(shop, held, late, early, legacy, old))

    async def ids(**where: object) -> list[int]:
        found = await store.search_messages(shop, MessageFilter(**where), 10)  # type: ignore[arg-type]
        return [line.id for line in found]

    assert await ids(since=NOW - 60, until=NOW + 60) == [legacy.id, held.id]
    assert await ids(since=NOW - 2 * hour) == [legacy.id, late.id, held.id, early.id]
    assert await ids(until=NOW - 2 * hour) == [old.id]
    assert await ids(since=NOW - 2 * hour, before_id=legacy.id) == [late.id, held.id, early.id]
    first = await store.search_messages(shop, MessageFilter(since=NOW - 2 * hour), 2)
    assert [line.id for line in first] == [legacy.id, late.id]
