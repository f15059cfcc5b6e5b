"""The operator faults a simulator injects, by configuration or at run time: answers of
throttling and a full queue, slow, missing and malformed submit_sm_resp, receipts ahead of
their response or for ids never issued, and refused binds.

Plain values plus the draw; the handler acts on them. Rates are fractions of submits (0 to 1).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields, replace
from typing import Literal

Fault = Literal["throttle", "queue_full", "slow", "lost", "malformed", "early_receipt"]


@dataclass(slots=True)
class Faults:
    # Each submit draws at most one of these, in this order.
    throttle_rate: float = 0.0  # answered ESME_RTHROTTLED (no id, no receipt)
    queue_full_rate: float = 0.0  # answered ESME_RMSGQFUL (no id, no receipt)
    lost_rate: float = 0.0  # never answered, never kept: the ESME's response timer fires
    malformed_rate: float = 0.0  # answered with an undecodable submit_sm_resp; never kept
    slow_rate: float = 0.0  # kept, answered only after slow_delay seconds
    slow_delay: float = 2.0
    early_receipt_rate: float = 0.0  # kept; its receipt goes out before its submit_sm_resp
    # Besides the answer: one receipt for a message id this simulator never issued.
    unknown_receipt_rate: float = 0.0
    # The next refuse_binds bind attempts are answered bind_refused_status (ESME_RBINDFAIL).
    refuse_binds: int = 0
    bind_refused_status: int = 0x0D

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be between 0 and 1, not {value}")
        if self.slow_delay < 0 or self.refuse_binds < 0:
            raise ValueError("slow_delay and refuse_binds cannot be negative")

    @property
    def any_per_submit(self) -> bool:
        """Whether a submit needs a draw at all: the handler's fast path skips it otherwise."""
        return bool(
            self.throttle_rate
            or self.queue_full_rate
            or self.lost_rate
            or self.malformed_rate
            or self.slow_rate
            or self.early_receipt_rate
            or self.unknown_receipt_rate
        )

    def changed(self, **changes: float | int) -> Faults:
        """A copy with `changes` applied and checked (unknown names raise TypeError)."""
        return replace(self, **changes)  # type: ignore[arg-type]


class FaultDraw:
    """One random draw per submit over the configured rates; seeded for repeatable runs."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)

    def pick(self, faults: Faults) -> Fault | None:
        x = self._random.random()
        for name, rate in (
            ("throttle", faults.throttle_rate),
            ("queue_full", faults.queue_full_rate),
            ("lost", faults.lost_rate),
            ("malformed", faults.malformed_rate),
            ("slow", faults.slow_rate),
            ("early_receipt", faults.early_receipt_rate),
        ):
            if x < rate:
                return name  # type: ignore[return-value]
            x -= rate
        return None

    def unknown_receipt(self, faults: Faults) -> bool:
        return bool(faults.unknown_receipt_rate) and (
            self._random.random() < faults.unknown_receipt_rate
        )


def parse_faults(text: str) -> dict[str, float | int]:
    """`throttle_rate=0.2,slow_delay=1` as changes for Simulator.set_faults (CLI, control)."""
    # drop_after and never_answer live on SimulatorConfig; Simulator.set_faults takes them too.
    kinds = {f.name: f.type for f in fields(Faults)} | {"drop_after": "int", "never_answer": "int"}
    changes: dict[str, float | int] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in kinds:
            raise ValueError(f"fault {item!r} is not NAME=VALUE with NAME one of {sorted(kinds)}")
        try:
            changes[name] = int(value, 0) if kinds[name] == "int" else float(value)
        except ValueError:
            raise ValueError(f"fault {item!r}: {value!r} is not a number") from None
    return changes
