"""Idempotency-Keys: a request sent again with the same key gets the first answer and changes
nothing, on whichever node it lands (the store decides who is first).

The door hands over its own answer as bytes, so each door keeps its format; this module does
not interpret it. A request that fails before anything was stored (bad input, rate limit) gives
its key back, so the client's corrected retry is served.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable

from smsgate.gateway.errors import GatewayError, InvalidRequest
from smsgate.immutable import record
from smsgate.store.roles import IdempotencyKeys

KEEP_FOR = 24 * 3600.0  # a key is remembered this long, as clients of other gateways expect
MAX_KEY = 255


class KeyReused(GatewayError):
    """The key was first used with another request body: a client bug, never served."""


class KeyInFlight(GatewayError):
    """The first request with this key is still being served (on this node or another)."""


@record
class Answer:
    status: int
    body: bytes


class IdempotentCalls:
    def __init__(self, keys: IdempotencyKeys, clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._clock = clock

    async def once(
        self,
        account_id: int,
        key: str,
        request_body: bytes,
        serve: Callable[[], Awaitable[Answer]],
    ) -> Answer:
        """`serve()`'s answer, or the answer first given under `key`; raises KeyReused when
        the key came with another body, KeyInFlight while its first request is unanswered."""
        check_key(key)
        fingerprint = hashlib.sha256(request_body).hexdigest()
        claim = await self._keys.claim_key(account_id, key, fingerprint, self._clock(), KEEP_FOR)
        if claim is not None:
            if claim.fingerprint != fingerprint:
                raise KeyReused()
            if claim.status is None or claim.body is None:
                raise KeyInFlight()
            return Answer(claim.status, claim.body)
        try:
            answer = await serve()
        except BaseException:
            # Shielded: a cancelled request must still free its key, or a retry waits a day.
            await asyncio.shield(self._keys.release_key(account_id, key))
            raise
        await asyncio.shield(self._keys.answer_key(account_id, key, answer.status, answer.body))
        return answer


def check_key(key: str) -> None:
    """A key is 1 to 255 visible ASCII characters (a UUID, usually)."""
    if not key or len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise InvalidRequest(
            "Idempotency-Key", f"Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters"
        )
    if key != key.strip():
        raise InvalidRequest("Idempotency-Key", "Idempotency-Key must not start or end in space")
