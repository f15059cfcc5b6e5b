"""Who is bound to the SMPP door on this node: the handler adds and drops binds, the receipt
transport asks which accounts it can reach. Nothing here decides anything."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from smsgate.gateway.views import AccountRecord
from smsgate.smpp.server import ServerSession


@dataclass(slots=True)
class Bind:
    account: AccountRecord
    session: ServerSession


class Binds:
    def __init__(self) -> None:
        self._by_session: dict[int, Bind] = {}  # ServerSession.id -> who is bound there

    def add(self, account: AccountRecord, session: ServerSession) -> None:
        self._by_session[session.id] = Bind(account, session)

    def drop(self, session: ServerSession) -> None:
        self._by_session.pop(session.id, None)

    def get(self, session: ServerSession) -> Bind | None:
        return self._by_session.get(session.id)

    def count(self, account_id: int) -> int:
        return sum(1 for b in self._by_session.values() if b.account.id == account_id)

    def receiving_accounts(self) -> Collection[int]:
        """Accounts with at least one receiver or transceiver bind that takes deliver_sm now."""
        return {b.account.id for b in self._by_session.values() if b.session.can_receive}

    def receivers(self, account_id: int) -> Sequence[ServerSession]:
        """That account's binds that may take deliver_sm now."""
        return [
            b.session
            for b in self._by_session.values()
            if b.account.id == account_id and b.session.can_receive
        ]
