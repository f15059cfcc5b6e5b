"""One operator connector: an SMPP client bind to an SMSC, submitting parts and turning the
operator's receipts into durable part states.

A receipt is acknowledged (deliver_sm_resp) only after it is stored, so a crash never loses one:
the operator sends it again.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable

from prometheus_client import Counter

from smsgate.config import ConnectorSettings
from smsgate.domain.status import PartState
from smsgate.gateway import metrics
from smsgate.gateway.batcher import Batcher
from smsgate.gateway.upstream import (
    SubmitAnswer,
    classify_submit_response,
    receipt_from_pdu,
    submit_sm_for,
)
from smsgate.smpp.client import NotAcknowledged, SmppClient
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu import DataSm, DeliverSm, Pdu, SubmitSmResp
from smsgate.store.records import ClaimedPart, OperatorReceipt

log = logging.getLogger(__name__)


class Connector:
    def __init__(
        self,
        settings: ConnectorSettings,
        receipts: Batcher[OperatorReceipt],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._receipts = receipts
        self._clock = clock
        self._client = SmppClient(
            settings.host,
            settings.port,
            settings.system_id,
            settings.password,
            settings.bind_type,
            system_type=settings.system_type,
            window=settings.window,
            tps=settings.tps,
            tls=ssl.create_default_context() if settings.tls else None,
            on_deliver=self._on_deliver,
        )
        # Bound children: `labels()` (a lock and a tuple key) per part was a few µs each.
        self._submitted = metrics.SUBMITTED.labels(self.name)
        self._latency = metrics.SUBMIT_LATENCY.labels(self.name)
        self._receipts_by_state: dict[PartState, Counter] = {}

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def ready(self) -> bool:
        return self._client.bound

    @property
    def window(self) -> int:
        return self.settings.window

    async def start(self) -> None:
        await self._client.start()

    async def close(self) -> None:
        await self._client.close()
        metrics.CONNECTOR_BOUND.labels(self.name).set(0)

    def describe(self) -> dict[str, object]:
        return {"bound": self._client.bound, "host": self.settings.host, "port": self.settings.port}

    async def submit(self, part: ClaimedPart) -> SubmitAnswer:
        pdu = submit_sm_for(part, self.settings.concat)
        started = time.perf_counter()
        try:
            response = await self._client.submit(pdu)
        except NotAcknowledged:
            metrics.SUBMIT_ERRORS.labels(self.name, "unacknowledged").inc()
            return SubmitAnswer("temporary", error=CommandStatus.ESME_RSYSERR)
        self._latency.observe(time.perf_counter() - started)
        message_id = response.message_id if isinstance(response, SubmitSmResp) else ""
        answer = classify_submit_response(response.command_status, message_id)
        if answer.kind == "accepted":
            self._submitted.inc()
        else:
            metrics.SUBMIT_ERRORS.labels(self.name, answer.kind).inc()
        return answer

    async def _on_deliver(self, pdu: Pdu) -> int:
        if not isinstance(pdu, DeliverSm | DataSm):
            return CommandStatus.ESME_RINVCMDID
        parsed = receipt_from_pdu(pdu)
        if parsed is None:
            # Mobile-originated messages are not routed anywhere yet; acknowledge and drop.
            log.info("connector %s: ignoring a non-receipt %s", self.name, type(pdu).__name__)
            return CommandStatus.ESME_ROK
        receipt = OperatorReceipt(
            connector=self.name,
            operator_id=parsed.operator_id,
            state=parsed.state,
            error=parsed.error,
            at=self._clock(),
        )
        try:
            await self._receipts.add(receipt)
        except Exception:
            # Not stored: refuse it so the operator delivers it again later.
            return CommandStatus.ESME_RSYSERR
        counter = self._receipts_by_state.get(parsed.state)
        if counter is None:
            counter = self._receipts_by_state[parsed.state] = metrics.RECEIPTS.labels(
                parsed.state.name
            )
        counter.inc()
        return CommandStatus.ESME_ROK
