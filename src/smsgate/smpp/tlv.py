"""SMPP v3.4 optional parameters (TLVs, §5.3): typed values per known tag, raw bytes otherwise.

Pure encode/decode with strict bounds; it must never read past the range it is given and never
raise anything but PduError on bad input.
"""

from __future__ import annotations

import struct
from typing import Final

from smsgate.immutable import record
from smsgate.smpp.constants import CommandStatus, Tag
from smsgate.smpp.pdu_error import PduError


@record
class NetworkErrorCode:
    """network_error_code (0x0423): network type (1 GSM, 2 ANSI-136, 3 IS-95 ...) + error code."""

    network_type: int
    error_code: int


TlvValue = int | str | bytes | NetworkErrorCode

# Value kinds: an int width (1, 2 or 4), or one of these.
_CSTRING: Final = "cstring"
_OCTETS: Final = "octets"
_NETWORK_ERROR: Final = "network_error"

# tag -> (kind, min length, max length) on the wire. Sizes follow the v3.4 tables (§5.3.2).
_SPECS: Final[dict[int, tuple[int | str, int, int]]] = {
    Tag.DEST_ADDR_SUBUNIT: (1, 1, 1),
    Tag.DEST_NETWORK_TYPE: (1, 1, 1),
    Tag.DEST_BEARER_TYPE: (1, 1, 1),
    Tag.DEST_TELEMATICS_ID: (2, 2, 2),
    Tag.SOURCE_ADDR_SUBUNIT: (1, 1, 1),
    Tag.SOURCE_NETWORK_TYPE: (1, 1, 1),
    Tag.SOURCE_BEARER_TYPE: (1, 1, 1),
    # v3.4 §5.3.2.11 says 1 octet; smpplib and node smpp use 2. We follow the spec.
    Tag.SOURCE_TELEMATICS_ID: (1, 1, 1),
    Tag.QOS_TIME_TO_LIVE: (4, 4, 4),
    Tag.PAYLOAD_TYPE: (1, 1, 1),
    Tag.ADDITIONAL_STATUS_INFO_TEXT: (_CSTRING, 1, 256),
    Tag.RECEIPTED_MESSAGE_ID: (_CSTRING, 1, 65),
    Tag.MS_MSG_WAIT_FACILITIES: (1, 1, 1),
    Tag.PRIVACY_INDICATOR: (1, 1, 1),
    Tag.SOURCE_SUBADDRESS: (_OCTETS, 2, 23),
    Tag.DEST_SUBADDRESS: (_OCTETS, 2, 23),
    Tag.USER_MESSAGE_REFERENCE: (2, 2, 2),
    Tag.USER_RESPONSE_CODE: (1, 1, 1),
    Tag.SOURCE_PORT: (2, 2, 2),
    Tag.DESTINATION_PORT: (2, 2, 2),
    Tag.SAR_MSG_REF_NUM: (2, 2, 2),
    Tag.LANGUAGE_INDICATOR: (1, 1, 1),
    Tag.SAR_TOTAL_SEGMENTS: (1, 1, 1),
    Tag.SAR_SEGMENT_SEQNUM: (1, 1, 1),
    Tag.SC_INTERFACE_VERSION: (1, 1, 1),
    Tag.CALLBACK_NUM_PRES_IND: (1, 1, 1),
    Tag.CALLBACK_NUM_ATAG: (_OCTETS, 0, 65),
    Tag.NUMBER_OF_MESSAGES: (1, 1, 1),
    Tag.CALLBACK_NUM: (_OCTETS, 4, 19),
    Tag.DPF_RESULT: (1, 1, 1),
    Tag.SET_DPF: (1, 1, 1),
    Tag.MS_AVAILABILITY_STATUS: (1, 1, 1),
    Tag.NETWORK_ERROR_CODE: (_NETWORK_ERROR, 3, 3),
    Tag.MESSAGE_PAYLOAD: (_OCTETS, 0, 0xFFFF),
    Tag.DELIVERY_FAILURE_REASON: (1, 1, 1),
    Tag.MORE_MESSAGES_TO_SEND: (1, 1, 1),
    Tag.MESSAGE_STATE: (1, 1, 1),
    Tag.USSD_SERVICE_OP: (1, 1, 1),
    Tag.DISPLAY_TIME: (1, 1, 1),
    Tag.SMS_SIGNAL: (2, 2, 2),
    Tag.MS_VALIDITY: (1, 1, 1),
    # v3.4 defines it with no value; some peers send one octet, so 0-1 octets, kept as bytes.
    Tag.ALERT_ON_MESSAGE_DELIVERY: (_OCTETS, 0, 1),
    Tag.ITS_REPLY_TYPE: (1, 1, 1),
    Tag.ITS_SESSION_INFO: (_OCTETS, 2, 2),
}

_TAGS: Final[dict[int, Tag]] = {int(t): t for t in Tag}
_TL = struct.Struct("!HH")
_NET = struct.Struct("!BH")
_INT_MAX: Final = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}

# Fast paths for the common kinds, derived from _SPECS: integer tags pack tag, length and value
# in one Struct call; C-string tags by their bounds. Anything doubtful takes the general code,
# which names the fault.
_INT_PACKERS: Final[dict[int, tuple[struct.Struct, int, int]]] = {
    tag: (struct.Struct({1: "!HHB", 2: "!HHH", 4: "!HHI"}[kind]), kind, (1 << 8 * kind) - 1)
    for tag, (kind, _, _) in _SPECS.items()
    if isinstance(kind, int)
}
_INT_WIDTHS: Final[dict[int, int]] = {
    tag: kind for tag, (kind, _, _) in _SPECS.items() if isinstance(kind, int)
}
_CSTRING_BOUNDS: Final[dict[int, tuple[int, int]]] = {
    tag: (lo, hi) for tag, (kind, lo, hi) in _SPECS.items() if kind == _CSTRING
}

_INVALID_STREAM = CommandStatus.ESME_RINVOPTPARSTREAM
_INVALID_LENGTH = CommandStatus.ESME_RINVPARLEN
_INVALID_VALUE = CommandStatus.ESME_RINVOPTPARAMVAL


def tlv_kind(tag: int) -> str:
    """The Python type a tag's value decodes to: 'int', 'str', 'bytes' or 'NetworkErrorCode'."""
    spec = _SPECS.get(tag)
    if spec is None:
        return "bytes"
    kind = spec[0]
    if isinstance(kind, int):
        return "int"
    return {_CSTRING: "str", _OCTETS: "bytes", _NETWORK_ERROR: "NetworkErrorCode"}[kind]


def tlv_size_bounds(tag: int) -> tuple[int, int]:
    """(min, max) octets on the wire for a known tag; (0, 65535) for any other."""
    spec = _SPECS.get(tag)
    return (0, 0xFFFF) if spec is None else (spec[1], spec[2])


def _name(tag: int) -> str:
    known = _TAGS.get(tag)
    return known.name.lower() if known is not None else f"tag 0x{tag:04X}"


def _encode_value(tag: int, value: TlvValue) -> bytes:
    spec = _SPECS.get(tag)
    if isinstance(value, bytes):
        # Raw bytes are written as given for any tag, so a decoded vendor TLV (or a caller that
        # already holds the wire form) passes through unchanged.
        raw = value
    elif spec is None:
        raise PduError(_INVALID_VALUE, f"{_name(tag)} is not a known tag: give its value as bytes")
    else:
        kind = spec[0]
        if isinstance(kind, int):
            if not isinstance(value, int) or not 0 <= value <= _INT_MAX[kind]:
                raise PduError(_INVALID_VALUE, f"{_name(tag)} needs an int of {kind} octet(s)")
            raw = value.to_bytes(kind, "big")
        elif kind == _CSTRING:
            if not isinstance(value, str):
                raise PduError(_INVALID_VALUE, f"{_name(tag)} needs a str")
            try:
                raw = value.encode("latin-1") + b"\0"
            except UnicodeEncodeError:
                raise PduError(_INVALID_VALUE, f"{_name(tag)} is not Latin-1") from None
            if b"\0" in raw[:-1]:
                raise PduError(_INVALID_VALUE, f"{_name(tag)} contains a NUL")
        elif kind == _NETWORK_ERROR:
            if not isinstance(value, NetworkErrorCode):
                raise PduError(_INVALID_VALUE, f"{_name(tag)} needs a NetworkErrorCode")
            try:
                raw = _NET.pack(value.network_type, value.error_code)
            except struct.error:
                raise PduError(_INVALID_VALUE, f"{_name(tag)} is out of range") from None
        else:
            raise PduError(_INVALID_VALUE, f"{_name(tag)} needs bytes")
    if spec is not None and not spec[1] <= len(raw) <= spec[2]:
        raise PduError(_INVALID_LENGTH, f"{_name(tag)} must be {spec[1]}..{spec[2]} octets")
    if len(raw) > 0xFFFF:
        raise PduError(_INVALID_LENGTH, f"{_name(tag)} is longer than 65535 octets")
    return raw


def encode_tlvs(tlvs: dict[int, TlvValue]) -> bytes:
    """The wire form of `tlvs`, in the dict's order."""
    if not tlvs:
        return b""
    parts: list[bytes] = []
    for tag, value in tlvs.items():
        if isinstance(value, int):
            packing = _INT_PACKERS.get(tag)
            if packing is not None and 0 <= value <= packing[2]:
                parts.append(packing[0].pack(tag, packing[1], value))
                continue
        elif isinstance(value, str):
            bounds = _CSTRING_BOUNDS.get(tag)
            if bounds is not None and value.isascii():
                raw = value.encode("ascii")
                if bounds[0] <= len(raw) + 1 <= bounds[1] and 0 not in raw:
                    parts.append(_TL.pack(tag, len(raw) + 1) + raw + b"\0")
                    continue
        if not isinstance(tag, int) or not 0 <= tag <= 0xFFFF:
            raise PduError(_INVALID_STREAM, f"TLV tag {tag!r} is not a 16-bit integer")
        raw = _encode_value(tag, value)
        parts.append(_TL.pack(tag, len(raw)))
        parts.append(raw)
    return b"".join(parts)


def _decode_value(tag: int, buf: bytes, start: int, end: int) -> TlvValue:
    spec = _SPECS.get(tag)
    if spec is None:
        return buf[start:end]
    kind, lo, hi = spec
    length = end - start
    if not lo <= length <= hi:
        raise PduError(_INVALID_LENGTH, f"{_name(tag)} has length {length}, not {lo}..{hi}")
    if isinstance(kind, int):
        return int.from_bytes(buf[start:end], "big")
    if kind == _CSTRING:
        # The NUL must be the last octet and the only one, or the value is ambiguous.
        if buf[end - 1] != 0 or buf.find(b"\0", start, end - 1) >= 0:
            raise PduError(_INVALID_VALUE, f"{_name(tag)} is not a NUL-terminated string")
        return buf[start : end - 1].decode("latin-1")
    if kind == _NETWORK_ERROR:
        network_type, error_code = _NET.unpack_from(buf, start)
        return NetworkErrorCode(network_type, error_code)
    return buf[start:end]


def decode_tlvs(buf: bytes | bytearray | memoryview, offset: int, end: int) -> dict[int, TlvValue]:
    """The TLVs in buf[offset:end]. Known tags are typed; a repeated tag keeps its last value."""
    data = buf if isinstance(buf, bytes) else bytes(buf)
    if not 0 <= offset <= end <= len(data):
        raise PduError(_INVALID_STREAM, "TLV range lies outside the buffer")
    tlvs: dict[int, TlvValue] = {}
    while offset < end:
        if end - offset < 4:
            raise PduError(_INVALID_STREAM, f"{end - offset} stray octet(s) where a TLV starts")
        tag, length = _TL.unpack_from(data, offset)
        offset += 4
        stop = offset + length
        if stop > end:
            raise PduError(_INVALID_STREAM, f"{_name(tag)} runs {stop - end} octet(s) past the PDU")
        if length == 1 and _INT_WIDTHS.get(tag) == 1:
            value: TlvValue = data[offset]
        else:
            value = _decode_value(tag, data, offset, stop)
        tlvs[_TAGS.get(tag, tag)] = value
        offset = stop
    return tlvs
