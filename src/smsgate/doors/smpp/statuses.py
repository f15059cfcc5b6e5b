"""The gateway's refusals as SMPP command_status values: one table, so a submit_sm, a
submit_multi and a long message refused after its parts were answered all say the same."""

from __future__ import annotations

from smsgate.gateway.errors import (
    AllDuplicates,
    InvalidRequest,
    RateLimited,
    Rejection,
    SenderNotAllowed,
)
from smsgate.gateway.send_request import SendOutcome
from smsgate.smpp.constants import CommandStatus

S = CommandStatus

_REJECTION_STATUS: dict[Rejection, int] = {
    Rejection.INVALID_PHONE: S.ESME_RINVDSTADR,
    Rejection.NO_TARIFF: S.ESME_RINVDSTADR,  # no route to that destination for this account
    Rejection.NO_MONEY: S.ESME_RSUBMITFAIL,
    Rejection.DUPLICATE: S.ESME_RSUBMITFAIL,
    Rejection.INVALID_TEXT: S.ESME_RINVMSGLEN,
    # SMPP 3.4 has no "opted out": 0x65 (permanent application error) says "do not retry"
    # and no other refusal uses it, so a client can tell it apart.
    Rejection.OPTED_OUT: S.ESME_RX_P_APPN,
}
_INVALID_FIELD_STATUS: dict[str, int] = {
    "sender": S.ESME_RINVSRCADR,
    "phone": S.ESME_RINVDSTADR,
    "text": S.ESME_RINVMSGLEN,
    "lifetime": S.ESME_RINVEXPIRY,
}


def status_for_rejection(rejection: Rejection) -> int:
    return _REJECTION_STATUS.get(rejection, S.ESME_RSUBMITFAIL)


def status_for_error(exc: Exception) -> int:
    if isinstance(exc, SenderNotAllowed):
        return S.ESME_RINVSRCADR
    if isinstance(exc, InvalidRequest):
        return _INVALID_FIELD_STATUS.get(exc.field, S.ESME_RSYSERR)
    if isinstance(exc, RateLimited):
        return S.ESME_RTHROTTLED
    if isinstance(exc, AllDuplicates):
        return S.ESME_RSUBMITFAIL
    return S.ESME_RSYSERR


def held_error(why: Rejection | Exception | None) -> int:
    """The err of the REJECTD receipt of a long message refused after its parts were
    answered: the command_status its submit_sm would have got; never completed: SUBMITFAIL."""
    if why is None:
        return int(S.ESME_RSUBMITFAIL)
    if isinstance(why, Rejection):
        return status_for_rejection(why)
    return status_for_error(why)


def rejected_status(outcome: SendOutcome) -> int:
    if outcome.rejected:
        return status_for_rejection(outcome.rejected[0][1])
    return S.ESME_RSUBMITFAIL
