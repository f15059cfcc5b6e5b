"""`Client`: the blocking face of the SDK. Everything but the transport is shared with
`AsyncClient` — each method builds a `protocol` call and lets `exchange` run it.

Must not parse, map errors or decide retries itself: that would make the two faces drift apart;
the httpx edge is `session.py`, shared with the native clients.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TypeVar

import httpx

from . import protocol
from .models import Balance, SendResult, StatusReport
from .protocol import Call, PhoneLike, Phones
from .retry import RetryPolicy
from .session import SyncSession

P = TypeVar("P")
T = TypeVar("T")


class Client:
    """A client of the SMS Club-compatible JSON API (smsgate, or https://im.smsclub.mobi).

    >>> with Client("http://127.0.0.1:8080", token) as sms:
    ...     result = sms.send(["380501234567"], "Hello", "Shop")
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._session = SyncSession(
            base_url,
            token,
            timeout=timeout,
            policy=RetryPolicy(retries=retries, backoff=backoff),
            transport=transport,
            sleep=sleep,
        )

    def send(
        self,
        phones: Phones,
        text: str,
        sender: str,
        *,
        lifetime: float | None = None,
        integration_id: str | None = None,
    ) -> SendResult:
        """Send one text to each phone; lists over 100 are sent in several requests and merged."""
        call = protocol.send_call(
            phones, text, sender, lifetime=lifetime, integration_id=integration_id
        )
        return self._run(call)

    def send_personal(
        self,
        items: Iterable[tuple[PhoneLike, str]],
        sender: str,
        *,
        lifetime: float | None = None,
    ) -> SendResult:
        """Send each (phone, text) pair its own text (`/v2/sms/send`)."""
        return self._run(protocol.send_personal_call(items, sender, lifetime=lifetime))

    def status(self, ids: Phones) -> StatusReport:
        """Status by id; ids the server does not know are in the result's `unknown`."""
        return self._run(protocol.status_call(ids))

    def balance(self) -> Balance:
        return self._run(protocol.balance_call())

    def senders(self) -> list[str]:
        """The account's active sender names (originators)."""
        return self._run(protocol.senders_call())

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, call: Call[P, T]) -> T:
        return self._session.run(call)
