"""Mobile-originated SMS the simulator sends, as a phone's operator would: a text from a phone
to a number, as one deliver_sm or, when long, as concatenated parts (8-bit UDH reference).

Pure: builds PDUs, sends nothing. The handler delivers them to the system_id's receiving bind
(held while it has none, like receipts).
"""

from __future__ import annotations

from smsgate.domain.segments import split_text
from smsgate.smpp.constants import ESM_UDHI, NPI_ISDN, TON_INTERNATIONAL, TON_UNKNOWN
from smsgate.smpp.pdu import DeliverSm
from smsgate.smpp.udh import build_concat_udh

# A message a customer sends to a number ending in this gets a reply from that number.
REPLY_SUFFIX = "0099"
MAX_MO_PARTS = 10


def mo_pdus(source: str, destination: str, text: str, ref: int) -> list[DeliverSm]:
    """The deliver_sm PDUs of one MO: one for a short text, else one per part sharing `ref`;
    ValueError for an empty text or one longer than MAX_MO_PARTS parts."""
    seg = split_text(text)  # raises EmptyText, a ValueError
    total = len(seg.parts)
    if total > MAX_MO_PARTS:
        raise ValueError(f"a text of at most {MAX_MO_PARTS} parts")
    if not source or not destination:
        raise ValueError("an MO needs a source and a destination number")
    pdus: list[DeliverSm] = []
    for seq, payload in enumerate(seg.parts, start=1):
        body = payload if total == 1 else build_concat_udh(ref & 0xFF, total, seq) + payload
        pdus.append(
            DeliverSm(
                source_addr_ton=TON_INTERNATIONAL,
                source_addr_npi=NPI_ISDN,
                source_addr=source.lstrip("+"),
                dest_addr_ton=TON_UNKNOWN if len(destination) <= 6 else TON_INTERNATIONAL,
                dest_addr_npi=NPI_ISDN,
                destination_addr=destination.lstrip("+"),
                esm_class=0 if total == 1 else ESM_UDHI,
                data_coding=seg.data_coding,
                short_message=body,
            )
        )
    return pdus


def reply_text(text: str) -> str:
    """What the reply number answers."""
    return f"Reply from the simulator: you said {text[:80]!r}"
