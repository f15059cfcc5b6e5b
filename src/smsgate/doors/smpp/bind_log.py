"""The SMPP door's session events as structured log lines: a customer bound, unbound, or was
refused a bind (with the command_status and the reason). Never the password offered.

It logs; the handler decides. Kept apart so that the handler's bind logic stays one screen.
"""

from __future__ import annotations

import logging

from smsgate.smpp.pdu import BindReceiver, BindTransceiver, BindTransmitter
from smsgate.smpp.server import ServerSession

log = logging.getLogger("smsgate.doors.smpp")

AnyBind = BindTransmitter | BindReceiver | BindTransceiver


def peer_of(session: ServerSession) -> str:
    peer = session.peer
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else str(peer)


def bound(session: ServerSession, pdu: AnyBind) -> None:
    peer = peer_of(session)
    log.info(
        "smpp bind %s from %s as %s",
        type(pdu).__name__,
        peer,
        pdu.system_id,
        extra={"event": "smpp_bind", "login": pdu.system_id, "peer": peer},
    )


def unbound(session: ServerSession, login: str, reason: str) -> None:
    """A bind ended: `reason` "unbind" when the customer asked, else "closed" (the connection
    dropped or timed out, or the node is stopping)."""
    peer = peer_of(session)
    log.info(
        "smpp unbind %s from %s: %s",
        login,
        peer,
        reason,
        extra={"event": "smpp_unbind", "login": login, "peer": peer, "reason": reason},
    )


def refused(session: ServerSession, pdu: AnyBind, status: int, reason: str) -> int:
    """Log a refused bind and return its command_status, for `return refused(...)`."""
    peer = peer_of(session)
    log.warning(
        "smpp bind refused for %s from %s: %s",
        pdu.system_id,
        peer,
        reason,
        extra={
            "event": "smpp_bind_refused",
            "login": pdu.system_id,
            "peer": peer,
            "command_status": f"0x{status:08X}",
            "reason": reason,
        },
    )
    return status
