"""The outbox's SMPP transport without sockets: whom it reaches, what the gate holds back,
and the customer's deliver_sm_resp statuses read as the pump's outcomes."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from smsgate.domain.status import Status
from smsgate.doors.smpp.binds import Binds
from smsgate.doors.smpp.receipts import SmppReceipts
from smsgate.doors.smpp.response_gate import ResponseGate
from smsgate.gateway.outbox.transport import Delivered, Refused, Unanswered
from smsgate.gateway.views import AccountRecord, OutboxItem
from smsgate.smpp.constants import CommandStatus, Tag
from smsgate.smpp.pdu import DeliverSm, DeliverSmResp, Pdu
from smsgate.smpp.server import ServerSession

S = CommandStatus


class Session:
    """A bound session that answers each deliver_sm with the next status (or no answer)."""

    def __init__(self, session_id: int, answers: list[int | None], can_receive: bool = True):
        self.id = session_id
        self.can_receive = can_receive
        self.outbound_pending = 0
        self.answers = answers
        self.sent: list[DeliverSm] = []

    def deliver(self, pdu: DeliverSm) -> asyncio.Future[Pdu]:
        self.sent.append(pdu)
        future: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        status = self.answers.pop(0)
        if status is None:
            future.set_exception(TimeoutError())
        else:
            future.set_result(DeliverSmResp(command_status=status))
        return future


def account(account_id: int) -> AccountRecord:
    return AccountRecord(account_id, f"a{account_id}", "UAH", 0, 4, True)


def item(row: int, submitted_at: float = 100.0) -> OutboxItem:
    return OutboxItem(
        row, 7, row, 1000 + row, Status.DELIVRD, 0, "380501234567", "Shop", "hi", 1,
        submitted_at, submitted_at + 1,
    )  # fmt: skip


def bind(binds: Binds, account_id: int, session: Session) -> None:
    binds.add(account(account_id), cast(ServerSession, session))


def test_it_reaches_only_accounts_with_a_bind_that_takes_deliver_sm() -> None:
    binds = Binds()
    bind(binds, 7, Session(1, []))
    bind(binds, 8, Session(2, [], can_receive=False))  # a transmitter
    assert set(SmppReceipts(binds, ResponseGate()).ready_accounts()) == {7}


def test_receipts_of_a_submit_whose_response_is_unwritten_wait_with_the_ones_after() -> None:
    clock = [100.0]
    gate = ResponseGate(lambda: clock[0])
    transport = SmppReceipts(Binds(), gate)
    items = [item(1, 99.0), item(2, 100.5), item(3, 99.5)]
    assert transport.sendable(7, items) == 3
    ticket = gate.open(7)
    clock[0] = 101.0
    assert transport.sendable(7, items) == 1  # row 3 is older, but waits behind row 2
    gate.close(ticket)
    assert transport.sendable(7, items) == 3


async def test_answers_become_outcomes_in_order() -> None:
    binds = Binds()
    session = Session(1, [S.ESME_ROK, S.ESME_RX_T_APPN, S.ESME_RX_P_APPN, None])
    bind(binds, 7, session)
    outcomes: Any = await SmppReceipts(binds, ResponseGate(), chunk=2).deliver(
        7, [item(1), item(2), item(3), item(4)]
    )
    assert outcomes == [
        Delivered,
        Refused("0x00000064"),
        Refused("0x00000065", final=True),
        Unanswered,
    ]
    assert [p.tlvs[Tag.RECEIPTED_MESSAGE_ID] for p in session.sent] == [
        "1001", "1002", "1003", "1004",
    ]  # fmt: skip


async def test_an_account_without_a_receiving_bind_gets_nothing() -> None:
    assert await SmppReceipts(Binds(), ResponseGate()).deliver(7, [item(1)]) is None
