"""Typed results of SDK calls: `SendResult`, `Status`, `StatusReport`, `Balance`.

Plain values with no behaviour beyond merging partial results; building them from responses is
`protocol.py`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from smsgate.immutable import record


class Status(StrEnum):
    """The five public message statuses; every value but ENROUTE is final."""

    ENROUTE = "ENROUTE"
    DELIVRD = "DELIVRD"
    EXPIRED = "EXPIRED"
    UNDELIV = "UNDELIV"
    REJECTD = "REJECTD"

    @property
    def is_final(self) -> bool:
        return self is not Status.ENROUTE


@dataclass(slots=True)
class SendResult:
    """`accepted` maps each new message id to its phone; `rejected` maps a phone to the reason."""

    accepted: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return list(self.accepted)

    @classmethod
    def merged(cls, parts: Iterable[SendResult]) -> SendResult:
        result = cls()
        for part in parts:
            result.accepted.update(part.accepted)
            result.rejected.update(part.rejected)
        return result


class StatusReport(dict[str, Status]):
    """Status by message id, in the order asked; `unknown` maps ids the server does not know
    (or that belong to another account: indistinguishable on purpose) to its reason."""

    __slots__ = ("unknown",)

    def __init__(
        self,
        statuses: Mapping[str, Status] | None = None,
        unknown: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(statuses or {})
        self.unknown: dict[str, str] = dict(unknown or {})

    @property
    def all_final(self) -> bool:
        return all(status.is_final for status in self.values())

    @classmethod
    def merged(cls, parts: Iterable[StatusReport]) -> StatusReport:
        result = cls()
        for part in parts:
            result.update(part)
            result.unknown.update(part.unknown)
        return result

    def __repr__(self) -> str:
        return f"StatusReport({dict(self)!r}, unknown={self.unknown!r})"


@record
class Balance:
    money: Decimal
    currency: str
