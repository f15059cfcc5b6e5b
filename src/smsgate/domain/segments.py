"""How a text becomes SMS parts: GSM-7 when every character is in the default alphabet or its
extension table, else UCS-2; 160/153 septets, 70/67 UTF-16 units, 140/134 octets for 8-bit data.
An ESC pair and a UTF-16 surrogate pair are never split across parts.

Parts carry the payload only; the UDH or SAR TLVs that join them are added by the SMPP side.
"""

from __future__ import annotations

from smsgate.domain.gsm7 import ESC, NotGsm7, decode_gsm7, encode_gsm7, is_gsm7
from smsgate.immutable import record

GSM7 = 0
IA5 = 1
LATIN1 = 3
UCS2 = 8

# (single message, per part of a multipart message with an 8-bit-reference UDH) in octets.
_GSM7_LIMITS = (160, 153)
_UCS2_LIMITS = (140, 134)  # 70 / 67 UTF-16 units
_OCTET_LIMITS = (140, 134)


class EmptyText(ValueError):
    """A message with no text: nothing to send and nothing to bill."""


@record
class Segmented:
    """A text split for sending. `parts` hold each part's payload without a UDH (GSM-7 as unpacked
    septets, UCS-2 as UTF-16BE); `units` is the whole text's length in septets (ESC pairs count
    two) or UTF-16 code units. The number of parts billed is `len(parts)`."""

    data_coding: int
    parts: tuple[bytes, ...]
    units: int


def _is_seven_bit(data_coding: int) -> bool:
    if data_coding >= 0xF0:  # GSM message-class coding: bit 2 set means 8-bit data
        return not data_coding & 0x04
    # IA5 is a 7-bit alphabet and travels as septets on the air interface, like GSM-7.
    return data_coding in (GSM7, IA5)


def _split_septets(payload: bytes, single: int, each: int) -> tuple[bytes, ...]:
    if len(payload) <= single:
        return (payload,)
    parts: list[bytes] = []
    start, size = 0, len(payload)
    while start < size:
        end = min(start + each, size)
        if end < size and payload[end - 1] == ESC:
            # An odd run of ESCs before the cut means the last one opens a pair: keep it whole.
            run = 0
            while end - 1 - run >= start and payload[end - 1 - run] == ESC:
                run += 1
            if run % 2:
                end -= 1
        parts.append(payload[start:end])
        start = end
    return tuple(parts)


def _split_utf16(payload: bytes, single: int, each: int) -> tuple[bytes, ...]:
    if len(payload) <= single:
        return (payload,)
    parts: list[bytes] = []
    start, size = 0, len(payload)
    while start < size:
        end = min(start + each, size)
        # A high surrogate as the last unit of a part would orphan its low half.
        if end < size and 0xD8 <= payload[end - 2] <= 0xDB:
            end -= 2
        parts.append(payload[start:end])
        start = end
    return tuple(parts)


def _split_octets(payload: bytes, single: int, each: int) -> tuple[bytes, ...]:
    if len(payload) <= single:
        return (payload,)
    return tuple(payload[i : i + each] for i in range(0, len(payload), each))


def _try_gsm7(text: str) -> bytes | None:
    if text.isascii():
        # ASCII text is almost always GSM-7: encoding it outright is cheaper than checking first.
        try:
            return encode_gsm7(text)
        except NotGsm7:
            return None
    return encode_gsm7(text) if is_gsm7(text) else None


def split_text(text: str) -> Segmented:
    if not text:
        raise EmptyText("message text is empty")
    septets = _try_gsm7(text)
    if septets is not None:
        return Segmented(GSM7, _split_septets(septets, *_GSM7_LIMITS), len(septets))
    # surrogatepass: a lone surrogate that reached us is sent as is rather than crashing the send.
    utf16 = text.encode("utf-16-be", "surrogatepass")
    return Segmented(UCS2, _split_utf16(utf16, *_UCS2_LIMITS), len(utf16) // 2)


def split_encoded(data_coding: int, payload: bytes) -> tuple[bytes, ...]:
    """Parts of a payload that arrived already encoded (from SMPP), by the same rules as
    `split_text`: 0 GSM-7 and 1 IA5 at 160/153, 8 UCS-2 at 70/67 units, anything else as
    octets at 140/134. An odd trailing byte of UCS-2 stays in the last part."""
    if not payload:
        raise EmptyText("message payload is empty")
    if data_coding == UCS2:
        return _split_utf16(payload, *_UCS2_LIMITS)
    if _is_seven_bit(data_coding):
        return _split_septets(payload, *_GSM7_LIMITS)
    return _split_octets(payload, *_OCTET_LIMITS)


def decode_payload(data_coding: int, payload: bytes) -> str:
    """Text of one payload: GSM-7 unpacked, UCS-2 as UTF-16BE, Latin-1, ASCII — all lenient.
    Binary and other codings are read as Latin-1 so every octet survives as one character."""
    if data_coding == UCS2:
        return payload.decode("utf-16-be", "replace")
    if data_coding == IA5:
        return payload.decode("ascii", "replace")
    if _is_seven_bit(data_coding):
        return decode_gsm7(payload)
    return payload.decode("latin-1")
