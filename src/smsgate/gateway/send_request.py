"""What a door hands the gateway and gets back: the few values shared by all four doors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from smsgate.gateway.errors import Rejection
from smsgate.gateway.views import MessageCallback
from smsgate.immutable import record


@record
class SendItem:
    phone: str  # as the client gave it; answers are keyed by this exact string
    text: str
    client_ref: str | None = None  # native API: stored with the message, echoed back


@record
class SendRequest:
    sender: str
    items: Sequence[SendItem]
    door: str  # "json", "http", "xml", "smpp"
    lifetime_minutes: float | None = None
    integration_id: str | None = None
    # SMPP door: a message that arrived as several submit_sm gets one id per PDU (the first is
    # the message id, the others alias it); `receipt_for` are the indexes of the PDUs that asked
    # for a delivery receipt. Only meaningful with a single item.
    pdu_count: int = 1
    receipt_for: tuple[int, ...] = ()
    # SMPP door, a long message assembled from parts held in the store: the held parts' ids, in
    # order. Each is also the id its part was answered with, so they become the message id and
    # its aliases (pdu_count is their number); accepting the message deletes the held parts.
    held_ids: tuple[int, ...] = ()
    # A scheduled send (epoch seconds): durable in the store, due then; None or a past time
    # sends at once. The lifetime counts from it.
    send_at: float | None = None
    # HTTP, JSON and XML doors: where each message's status is pushed (checked by submit
    # against the callback URL rules; field role "callback" in its refusals).
    callback: MessageCallback | None = None


@dataclass(slots=True)
class SendOutcome:
    accepted: list[tuple[int, str]] = field(default_factory=list)  # (id, phone as given)
    rejected: list[tuple[str, Rejection]] = field(default_factory=list)  # (phone as given, why)
    # message id -> the ids of its PDUs, in order (SMPP door; one entry per accepted message).
    pdu_ids: dict[int, tuple[int, ...]] = field(default_factory=dict)


MAX_ITEMS = 100  # recipients per request on the HTTP doors, per the contract
