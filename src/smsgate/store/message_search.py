"""The message log's query: an account's messages by filter, newest first, a page at a time.

Builds SQLAlchemy Core only (the store runs it on its reader); it must never read other
accounts' rows, so account_id is always the first condition. Pages are keyed by id (ids grow
with time), not by offset, so a page stays cheap however deep it is.

What keeps a search of millions of rows to a short walk of one index (bench/message_search.py):
- a recipient (`number`) is an equality on (account_id, phone, id): that recipient's rows only,
  already newest first;
- a period (`since`, `until`) also bounds the id: a message's id is minted within seconds of
  its created_at on the same clock (an SMPP message held for its parts takes its first part's
  id, at most held_messages.ASSEMBLY_TIMEOUT earlier), so ids outside the period widened by
  ID_SLACK cannot match. Ids of the earlier 63-bit layout (domain/ids.py) are above MAX_ID and
  say nothing of their time: they are searched apart, by created_at alone, and come first, as
  they do in id order.
- a failed status (EXPIRED, UNDELIV, REJECTD) reads a partial index of the failed messages only
  (account_id, status, id): delivered ones, most of them, never write to it.
Other filters (ENROUTE or DELIVRD, sender, a phone prefix) are checked along (account_id, id): a
page costs rows in proportion to how rare the filter is, bounded by the period when one is given.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, TextClause, select, text, union_all

from smsgate.domain.ids import MAX_ID, first_id_at
from smsgate.domain.status import Status
from smsgate.store.records import MessageFilter, MessageLine
from smsgate.store.schema import FAILED_MESSAGES, messages

_COLUMNS = (
    messages.c.id,
    messages.c.status,
    messages.c.phone,
    messages.c.sender,
    messages.c.door,
    messages.c.text,
    messages.c.data_coding,
    messages.c.parts,
    messages.c.price_per_part,
    messages.c.created_at,
    messages.c.done_at,
    messages.c.error,
    messages.c.client_ref,
)


Condition = ColumnElement[bool] | TextClause
_FAILED = frozenset({Status.EXPIRED, Status.UNDELIV, Status.REJECTD})

# Seconds an id's time may be from its message's created_at: far above the 300 s an SMPP
# message's parts may wait for each other, and the 1 s a restarted node's ids run ahead.
ID_SLACK = 3600.0


def search_query(account_id: int, where: MessageFilter, limit: int) -> Select[Any]:
    conditions: list[Condition] = [messages.c.account_id == account_id]
    if where.message_id is not None:
        conditions.append(messages.c.id == where.message_id)
    if where.before_id is not None:
        conditions.append(messages.c.id < where.before_id)
    if where.number is not None:
        conditions.append(messages.c.phone == where.number)
    if where.phone:
        # A prefix, escaped: a '%' or '_' given is a character, never a LIKE wildcard.
        conditions.append(messages.c.phone.startswith(where.phone, autoescape=True))
    if where.status is not None:
        conditions.append(messages.c.status == where.status.value)
        if where.status in _FAILED:
            # Implied by the status; written out, it lets SQLite read the partial index.
            conditions.append(text(FAILED_MESSAGES))
    if where.sender is not None:
        conditions.append(messages.c.sender == where.sender)
    if where.door is not None:
        conditions.append(messages.c.door == where.door)
    if where.since is not None:
        conditions.append(messages.c.created_at >= where.since)
    if where.until is not None:
        conditions.append(messages.c.created_at < where.until)
    if where.since is None and where.until is None:
        return _newest(conditions, limit)
    low = 0 if where.since is None else first_id_at(where.since - ID_SLACK)
    high = MAX_ID + 1 if where.until is None else first_id_at(where.until + ID_SLACK)
    legacy = _newest([*conditions, messages.c.id > MAX_ID], limit).subquery()
    dated = _newest(
        [*conditions, messages.c.id >= low, messages.c.id < min(high, MAX_ID + 1)], limit
    ).subquery()
    both = union_all(select(legacy), select(dated)).subquery()
    return select(both).order_by(both.c.id.desc()).limit(limit)


def _newest(conditions: list[Condition], limit: int) -> Select[Any]:
    return select(*_COLUMNS).where(*conditions).order_by(messages.c.id.desc()).limit(limit)


def line(row: Any) -> MessageLine:
    return MessageLine(
        id=row.id,
        status=Status(row.status),
        phone=row.phone,
        sender=row.sender,
        door=row.door,
        text=row.text,
        data_coding=row.data_coding,
        parts=row.parts,
        price_per_part=row.price_per_part,
        created_at=row.created_at,
        done_at=row.done_at,
        error=row.error,
        client_ref=row.client_ref,
    )
