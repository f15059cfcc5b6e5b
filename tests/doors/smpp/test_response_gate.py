"""The gate that keeps a receipt from reaching a customer before the submit_sm_resp that
carried its id was written."""

from __future__ import annotations

from smsgate.domain.status import Status
from smsgate.doors.smpp.response_gate import ResponseGate
from smsgate.gateway.views import OutboxItem

PHONE = "380501234567"


def test_gate_holds_receipts_of_submits_whose_response_is_not_written() -> None:
    clock = [100.0]
    gate = ResponseGate(lambda: clock[0])

    def item(account_id: int, submitted_at: float) -> OutboxItem:
        return OutboxItem(
            1, account_id, 1, 1, Status.DELIVRD, 0, PHONE, "Shop", "t", 1, submitted_at, 0.0
        )

    ticket = gate.open(7)
    clock[0] = 100.5
    assert gate.holds(item(7, 100.2))  # created by the submit still in progress
    assert not gate.holds(item(7, 99.0))  # older: its response was written long ago
    assert not gate.holds(item(8, 100.2))  # another account
    later = gate.open(7)
    gate.close(ticket)
    assert not gate.holds(item(7, 100.2))  # later tickets never hold older receipts
    gate.close(later)
    assert not gate.holds(item(7, 101.0))
