"""User Data Header (3GPP TS 23.040 §9.2.3.24) at the start of a short_message with UDHI set:
building concatenation headers and parsing any UDH into its information elements.

Bounded and strict: a malformed header raises UdhError (a PduError with ESME_RINVESMCLASS,
since the esm_class UDHI bit promised a header that is not there).
"""

from __future__ import annotations

from smsgate.immutable import record
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu_error import PduError

IEI_CONCAT_8BIT = 0x00
IEI_CONCAT_16BIT = 0x08


class UdhError(PduError):
    def __init__(self, message: str) -> None:
        super().__init__(CommandStatus.ESME_RINVESMCLASS, message)


@record
class InformationElement:
    iei: int
    data: bytes


@record
class Concat:
    """One segment's place in a concatenated message."""

    ref: int
    total: int
    seq: int
    sixteen_bit: bool = False


@record
class Udh:
    """Every information element in wire order, and the concatenation one decoded if present."""

    elements: tuple[InformationElement, ...]
    concat: Concat | None = None

    def to_bytes(self) -> bytes:
        body = b"".join(bytes((ie.iei, len(ie.data))) + ie.data for ie in self.elements)
        if len(body) > 0xFF:
            raise UdhError(f"UDH of {len(body)} octets does not fit its length octet")
        return bytes((len(body),)) + body


def build_concat_udh(ref: int, total: int, seq: int, sixteen_bit: bool = False) -> bytes:
    """05 00 03 ref total seq, or 06 08 04 refHi refLo total seq with a 16-bit reference."""
    if not 1 <= total <= 255 or not 1 <= seq <= total:
        raise UdhError(f"segment {seq} of {total} is not a valid concatenation position")
    if sixteen_bit:
        if not 0 <= ref <= 0xFFFF:
            raise UdhError(f"16-bit concatenation reference {ref} is out of range")
        return bytes((6, IEI_CONCAT_16BIT, 4, ref >> 8, ref & 0xFF, total, seq))
    if not 0 <= ref <= 0xFF:
        raise UdhError(f"8-bit concatenation reference {ref} is out of range")
    return bytes((5, IEI_CONCAT_8BIT, 3, ref, total, seq))


def _concat_of(ie: InformationElement) -> Concat:
    data = ie.data
    if ie.iei == IEI_CONCAT_8BIT:
        if len(data) != 3:
            raise UdhError(f"8-bit concatenation element has {len(data)} octets, not 3")
        ref, total, seq = data[0], data[1], data[2]
        sixteen = False
    else:
        if len(data) != 4:
            raise UdhError(f"16-bit concatenation element has {len(data)} octets, not 4")
        ref, total, seq = (data[0] << 8) | data[1], data[2], data[3]
        sixteen = True
    if total == 0 or not 1 <= seq <= total:
        raise UdhError(f"concatenation segment {seq} of {total} is impossible")
    return Concat(ref, total, seq, sixteen)


def parse_udh(short_message: bytes) -> tuple[Udh | None, bytes]:
    """Split a UDHI short_message into its header and the text after it.

    Returns (None, b"") for an empty short_message. When several concatenation elements are
    present, the last one wins (23.040 says a repeated element replaces the earlier one).
    """
    if not short_message:
        return None, b""
    udhl = short_message[0]
    end = 1 + udhl
    if end > len(short_message):
        raise UdhError(f"UDH length {udhl} runs past the {len(short_message)}-octet message")
    elements: list[InformationElement] = []
    concat: Concat | None = None
    off = 1
    while off < end:
        if end - off < 2:
            raise UdhError("UDH ends inside an information element header")
        iei, length = short_message[off], short_message[off + 1]
        off += 2
        if off + length > end:
            raise UdhError(f"information element 0x{iei:02X} runs past the UDH")
        ie = InformationElement(iei, bytes(short_message[off : off + length]))
        off += length
        elements.append(ie)
        if iei in (IEI_CONCAT_8BIT, IEI_CONCAT_16BIT):
            concat = _concat_of(ie)
    return Udh(tuple(elements), concat), bytes(short_message[end:])
