"""The dispatcher: claims queued parts from the store in batches, routes each to a connector,
submits it within that connector's window, and records what the operator said.

Claims bound how much is in flight (never more than the connectors' windows can take), so a
backlog of millions costs no memory. Parts this node had in flight when it died are released
on start and sent once more: the only way a part can reach the operator twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Protocol

from smsgate.batching import BatchQueue, whole_batch
from smsgate.domain.status import PartState
from smsgate.gateway import metrics
from smsgate.gateway.at_rest import until_commit
from smsgate.gateway.connector import Connector
from smsgate.gateway.operator_results import answer_delay, submitted_batch
from smsgate.gateway.router import Router
from smsgate.gateway.store_trouble import describe_error
from smsgate.gateway.upstream import SubmitAnswer
from smsgate.immutable import record
from smsgate.log_limit import LimitedLog
from smsgate.smpp.constants import CommandStatus
from smsgate.store.records import ClaimedPart, SubmitDone, SubmitFailed
from smsgate.store.roles import Changes, Claims, Receipts

log = logging.getLogger(__name__)


@record
class DispatchPolicy:
    batch: int = 500
    claim_ttl: float = 300.0
    retry_backoff: float = 2.0
    retry_backoff_max: float = 300.0
    no_route_delay: float = 1.0
    idle_sleep: float = 0.01
    # At rest, a claim is tried only once the database has changed (roles.Changes), or at
    # least this often (parts requeued for later come due without a commit).
    idle_claim_every: float = 1.0
    expire_every: float = 1.0
    idle_expire_every: float = 5.0  # the sweep's pace while nothing is queued or in flight


# How many windows of the bound connectors may be claimed at once, and claimed per transaction.
WINDOWS_CLAIMED = 8
_WINDOWS_PER_CLAIM = 2
# Seconds between claims while the store fails them (locked, full, restarting).
_CLAIM_RETRY = 0.5
# How long failures and retries gather before their batch is written: nothing waits on them.
_RESULT_DELAY = 0.005


@record
class _Requeue:
    part_id: int
    not_before: float


class DispatchStore(Changes, Claims, Receipts, Protocol):
    """What the dispatcher asks of the store: its claims, and the operator's answers (through
    its own batch of them unless the node hands it one)."""


class Dispatcher:
    def __init__(
        self,
        store: DispatchStore,
        router: Router,
        connectors: Sequence[Connector],
        *,
        node_id: int,
        policy: DispatchPolicy | None = None,
        clock: Callable[[], float] = time.time,
        submitted: BatchQueue[SubmitDone, None] | None = None,
    ) -> None:
        """`submitted`: where accepted parts' results go (the node's OperatorResults, which
        lets receipts take theirs along); by default a batch of the dispatcher's own."""
        self._store = store
        self._router = router
        self._connectors = list(connectors)
        self._node_id = node_id
        self._policy = policy or DispatchPolicy()
        self._clock = clock
        self._in_flight = 0
        self._slot_freed = asyncio.Event()
        self._idle = asyncio.Event()  # nothing in flight
        self._idle.set()
        self._by_name = {c.name: c for c in self._connectors}
        self._submitted = submitted or submitted_batch(
            store,
            answer_delay(any(c.settings.bound_resends for c in self._connectors)),
            recorded=lambda: self.recorded,
        )
        self._failed = BatchQueue(whole_batch(store.failed), delay=_RESULT_DELAY, name="failed")
        self._requeued = BatchQueue(
            whole_batch(self._flush_requeue), delay=_RESULT_DELAY, name="requeue"
        )
        self._stopping = False
        self._stop = asyncio.Event()  # set with _stopping: ends a rest at once
        self._limited_log = LimitedLog(log)
        self._expiry: asyncio.Task[None] | None = None
        self._loop_over = asyncio.Event()  # run() has left its loop (or never entered it)
        self._loop_over.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _windows(self) -> int:
        return sum(c.window for c in self._connectors if c.ready)

    def _capacity(self) -> int:
        # Parts beyond a connector's window wait in its client's queue and go out as answers
        # free the window, so eight windows' worth keeps every window full while a claim waits
        # its turn on the store's writer (behind accepts, submits and receipts).
        return WINDOWS_CLAIMED * self._windows()

    def _claim_size(self) -> int:
        # Claim in batches of two windows at least: one transaction per handful of answers
        # (a claim every few slots) cost more writer turns than the submits themselves.
        return max(1, min(self._policy.batch, _WINDOWS_PER_CLAIM * self._windows()))

    async def run(self) -> None:
        if self._stopping:
            return  # stopped before this task got its first turn
        self._loop_over.clear()
        try:
            while True:
                try:
                    await self._store.release_claims(self._clock(), self._node_id)
                    break
                except Exception as error:
                    self._limited_log.warning(
                        "claim",
                        "releasing this node's old claims failed (%s); trying again in %.1f s",
                        describe_error(error),
                        _CLAIM_RETRY,
                        extra={"event": "claim_failed"},
                    )
                    await asyncio.sleep(_CLAIM_RETRY)
                    if self._stopping:
                        self._loop_over.set()
                        return
        except BaseException:
            self._loop_over.set()
            raise
        expiry = self._expiry = asyncio.create_task(self._expire_loop())
        try:
            while not self._stopping:
                free = self._capacity() - self._in_flight
                if free < self._claim_size():
                    self._slot_freed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._slot_freed.wait(), 0.05)
                    continue
                seen = self._store.data_version()  # before the claim: it misses no commit
                try:
                    parts = await self._store.claim_parts(
                        self._node_id,
                        self._clock(),
                        min(free, self._policy.batch),
                        self._policy.claim_ttl,
                    )
                except Exception as error:
                    # The database in trouble (locked, full, restarting) must not end the
                    # dispatcher: it claims again once the store answers, without a restart.
                    self._limited_log.warning(
                        "claim",
                        "claiming queued parts failed (%s); trying again in %.1f s",
                        describe_error(error),
                        _CLAIM_RETRY,
                        extra={"event": "claim_failed"},
                    )
                    await asyncio.sleep(_CLAIM_RETRY)
                    continue
                if not parts:
                    await self._rest(seen)
                    continue
                for part in parts:
                    self._route(part)
        finally:
            expiry.cancel()
            self._loop_over.set()

    async def _rest(self, seen: int | None) -> None:
        """After a claim that found nothing: idle_sleep, then on until something is
        committed to the database (the claim before this one read its version), stop() is
        called or idle_claim_every has passed. Where the store cannot tell (seen is None),
        just idle_sleep, as every claim once did."""
        await asyncio.sleep(self._policy.idle_sleep)
        await until_commit(
            self._store, seen, self._policy.idle_claim_every - self._policy.idle_sleep, self._stop
        )

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let what is in flight finish (for up to `timeout` seconds), and store
        every result."""
        self._stopping = True
        self._stop.set()
        if self._expiry is not None:  # no sweep may start once the node begins closing the store
            self._expiry.cancel()
        # A claim in progress ends first: its parts are then in flight, and waited for below
        # (idle at once would let the node close the store under that claim).
        deadline = time.monotonic() + timeout
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._loop_over.wait(), timeout)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), max(0.0, deadline - time.monotonic()))
        for batcher in (self._submitted, self._failed, self._requeued):
            await batcher.drain()

    def _route(self, part: ClaimedPart) -> None:
        connector = self._router.pick(part.phone)
        if connector is None or not isinstance(connector, Connector):
            if not self._router.has_route(part.phone):
                failure = SubmitFailed(
                    part.part_id, PartState.REJECTD, CommandStatus.ESME_RINVDSTADR, self._clock()
                )
                self._failed.post(failure)
            else:
                self._requeued.post(
                    _Requeue(part.part_id, self._clock() + self._policy.no_route_delay)
                )
            return
        self._in_flight += 1
        self._idle.clear()
        connector.submit_soon(part, lambda answer: self._answered(part, connector, answer))

    def _answered(
        self, part: ClaimedPart, connector: Connector, answer: SubmitAnswer | BaseException
    ) -> None:
        # Results are posted, not awaited. A result the store fails to record leaves the part
        # claimed; release_claims hands it back after claim_ttl and it is sent again (as after
        # a crash). The slot is the operator's window, not the store's: it is freed now, so the
        # next claim goes out while this result is committed.
        self._in_flight -= 1
        if self._capacity() - self._in_flight >= self._claim_size():
            self._slot_freed.set()
        if not self._in_flight:
            self._idle.set()
        if isinstance(answer, BaseException):
            connector.settled()
            log.error("dispatching part %d failed", part.part_id, exc_info=answer)
            return
        now = self._clock()
        if answer.kind == "accepted":
            # Its slot stays taken until this is written (recorded()), if the connector
            # bounds its resends: the operator has the part and the store does not know yet.
            self._submitted.post(SubmitDone(part.part_id, connector.name, answer.operator_id, now))
            return
        connector.settled()
        if answer.kind == "temporary":
            self._requeued.post(_Requeue(part.part_id, now + self._backoff(part)))
        elif answer.kind == "unsent":
            # The operator never saw it (its bind dropped first): another bound connector on
            # the route takes it now; with none, it waits like a part with no ready route.
            if connector.ready:
                self._requeued.post(_Requeue(part.part_id, now + self._policy.no_route_delay))
            else:
                self._route(part)
        else:
            self._failed.post(SubmitFailed(part.part_id, answer.state, answer.error, now))

    def recorded(self, done: Sequence[SubmitDone]) -> None:
        """Accepted parts' results went to the store (or failed to): their slots are free."""
        by_name = self._by_name
        for d in done:
            connector = by_name.get(d.connector)
            if connector is not None:
                connector.settled()

    def _backoff(self, part: ClaimedPart) -> float:
        base = self._policy.retry_backoff * (2 ** min(part.attempts, 16))
        delay = min(self._policy.retry_backoff_max, base)
        return float(delay * random.uniform(0.5, 1.0))

    async def _flush_requeue(self, items: Sequence[_Requeue]) -> None:
        # One store call per due time, rounded so a batch of throttled parts is one call.
        groups: dict[float, list[int]] = defaultdict(list)
        for item in items:
            groups[round(item.not_before, 1)].append(item.part_id)
        for not_before, part_ids in groups.items():
            await self._store.requeue(part_ids, not_before)

    async def _expire_loop(self) -> None:
        loop = asyncio.get_running_loop()
        quiet_at: float | None = None  # when a sweep last found nothing queued or lapsed
        while True:
            await asyncio.sleep(self._policy.expire_every)
            # Nothing queued, nothing in flight: sweeping every second would find nothing
            # again (the queue is claimed at once). It waits idle_expire_every instead.
            if (
                quiet_at is not None
                and not self._in_flight
                and loop.time() - quiet_at < self._policy.idle_expire_every
            ):
                continue
            try:
                expired = await self._store.expire(self._clock())
                released = await self._store.release_claims(self._clock())
                depth = await self._store.queue_depth()
                metrics.QUEUE_DEPTH.set(depth)
                quiet_at = None if expired or released or depth else loop.time()
            except Exception:
                quiet_at = None
                log.exception("expiry sweep failed")
