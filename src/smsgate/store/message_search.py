"""The message log's query: an account's messages by filter, newest first, a page at a time.

Builds SQLAlchemy Core only (the store runs it on its reader); it must never read other
accounts' rows, so account_id is always the first condition. Pages are keyed by id (ids grow
with time), not by offset, so a page stays cheap however deep it is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from smsgate.domain.status import Status
from smsgate.store.records import MessageFilter, MessageLine
from smsgate.store.schema import messages

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


def search_query(account_id: int, where: MessageFilter, limit: int) -> Select[Any]:
    conditions = [messages.c.account_id == account_id]
    if where.message_id is not None:
        conditions.append(messages.c.id == where.message_id)
    if where.before_id is not None:
        conditions.append(messages.c.id < where.before_id)
    if where.phone:
        # A prefix, escaped: a '%' or '_' given is a character, never a LIKE wildcard.
        conditions.append(messages.c.phone.startswith(where.phone, autoescape=True))
    if where.status is not None:
        conditions.append(messages.c.status == where.status.value)
    if where.sender is not None:
        conditions.append(messages.c.sender == where.sender)
    if where.door is not None:
        conditions.append(messages.c.door == where.door)
    if where.since is not None:
        conditions.append(messages.c.created_at >= where.since)
    if where.until is not None:
        conditions.append(messages.c.created_at < where.until)
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
