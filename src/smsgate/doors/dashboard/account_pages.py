"""The account page: balance, sender names, and API token rotation (the new token is shown
once, in the answer to the rotation, and kept nowhere but as its hash)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smsgate.doors.web import WebReply

if TYPE_CHECKING:
    from .app import Visit

Page = Callable[["Visit", re.Match[str]], Awaitable[WebReply]]


def routes() -> list[tuple[str, frozenset[str], Page]]:
    return [
        (r"/account", frozenset({"GET"}), account_page),
        (r"/account/token", frozenset({"POST"}), rotate_token),
    ]


async def account_page(visit: Visit, match: re.Match[str]) -> WebReply:
    return await _page(visit, None)


async def rotate_token(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    token = await visit.self_service.rotate_token(visit.account)
    return await _page(visit, token)


async def _page(visit: Visit, token: str | None) -> WebReply:
    assert visit.account is not None
    balance = await visit.gateway.balance(visit.account)
    senders = await visit.gateway.senders(visit.account)
    return visit.page("account.html", balance=balance, senders=senders, token=token)
