"""What a simulated operator does: who may bind, how fast receipts come, the outcome mix and the
faults to inject. Plain values, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from smsgate.simulator.faults import Faults

DEFAULT_CREDENTIALS: list[tuple[str, str]] = [("smsgate", "sim")]


@dataclass(slots=True)
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 2776  # 0 picks a free port (see Simulator.port)
    credentials: list[tuple[str, str]] = field(default_factory=lambda: list(DEFAULT_CREDENTIALS))
    receipt_delay: float = 0.5  # seconds from submit_sm_resp to the receipt
    # stat word -> weight, for destinations that carry no magic number.
    mix: dict[str, float] = field(default_factory=lambda: {"DELIVRD": 1.0})
    message_ids: Literal["decimal", "hex"] = "decimal"
    # First message id; None starts from the clock so restarts do not reuse ids.
    first_message_id: int | None = None
    seed: int | None = None  # for the mix draw; None is random
    # Faults.
    throttle_tps: int | None = None  # answer ESME_RTHROTTLED above this many submits/s a bind
    drop_after: int | None = None  # drop the connection instead of answering submit number N+1
    never_answer: bool = False  # leave every submit unanswered
    # Per-submit and bind faults (rates, slow answers, stray receipts, refused binds).
    faults: Faults = field(default_factory=Faults)
    # Counters kept per destination (and per multipart part) stop growing at this many keys;
    # query_sm remembers the outcome of this many latest message ids.
    track_destinations: int = 100_000
    remember_ids: int = 100_000
    # Server timers and window for receipts.
    window: int = 64
    enquire_link_interval: float | None = 60.0
    session_init_timeout: float | None = 30.0
    inactivity_timeout: float | None = 600.0
    system_id: str = "simulator"
