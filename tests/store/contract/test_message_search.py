"""search_messages(): an account's messages newest first, every filter, pages that continue
below the last id and are not shifted by messages stored meanwhile."""

from __future__ import annotations

from smsgate.domain.status import Status
from smsgate.store.interface import Store
from smsgate.store.records import MessageQuery

from ..builders import NOW, PRICE, new_message, request


async def test_filters_and_pages_newest_first(store: Store) -> None:
    shop = await store.create_account("shop")
    other = await store.create_account("other")
    await store.top_up(shop.id, 100 * PRICE)
    await store.top_up(other.id, 100 * PRICE)
    sent = []
    for n in range(12):
        phone = "380501111111" if n % 3 == 0 else "380502222222"
        m = new_message(shop.id, text=f"m{n}", phone=phone, now=NOW + n)
        await store.accept(request(shop.id, m, now=NOW + n))
        sent.append(m.id)
    await store.accept(request(other.id, new_message(other.id, text="theirs")))
    assert await store.cancel(shop.id, sent[4], NOW + 20)

    newest_first = sorted(sent, reverse=True)
    everything = await store.search_messages(shop.id, MessageQuery(limit=100))
    assert [m.id for m in everything] == newest_first

    pages: list[int] = []
    before = None
    while True:
        page = await store.search_messages(shop.id, MessageQuery(before_id=before, limit=5))
        if not page:
            break
        pages.extend(m.id for m in page)
        before = page[-1].id
        # A message stored between pages is newer than every page: it shifts nothing.
        late = new_message(shop.id, text=f"late{before}", now=NOW + 100)
        await store.accept(request(shop.id, late, now=NOW + 100))
    assert pages == newest_first

    by_phone = await store.search_messages(shop.id, MessageQuery(phone="380501111111", limit=100))
    assert [m.id for m in by_phone] == [i for i in newest_first if sent.index(i) % 3 == 0]
    rejected = await store.search_messages(shop.id, MessageQuery(status=Status.REJECTD))
    assert [m.id for m in rejected] == [sent[4]]
    window = await store.search_messages(shop.id, MessageQuery(since=NOW + 2, until=NOW + 5))
    assert [m.id for m in window] == [sent[4], sent[3], sent[2]]
    assert await store.search_messages(shop.id, MessageQuery(sender="Other")) == []
    assert len(await store.search_messages(shop.id, MessageQuery(sender="Shop", limit=3))) == 3
