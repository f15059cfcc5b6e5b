"""SMPP v3.4 PDUs as dataclasses, and their exact encoding and decoding (§4, §5).

Pure functions over bytes: no sockets, no clocks, no sessions. Decoding is strict and bounded and
raises only PduError, whatever the input.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Final

from smsgate.immutable import record
from smsgate.smpp.constants import (
    HEADER_LENGTH,
    INTERFACE_VERSION,
    MAX_PDU_LENGTH,
    MAX_SHORT_MESSAGE,
    RESPONSE_BIT,
    CommandId,
    CommandStatus,
    Tag,
)
from smsgate.smpp.pdu_error import PduError
from smsgate.smpp.tlv import TlvValue, decode_tlvs, encode_tlvs

__all__ = [
    "AlertNotification",
    "BindReceiver",
    "BindReceiverResp",
    "BindTransceiver",
    "BindTransceiverResp",
    "BindTransmitter",
    "BindTransmitterResp",
    "CancelSm",
    "CancelSmResp",
    "DataSm",
    "DataSmResp",
    "DeliverSm",
    "DeliverSmResp",
    "DestAddress",
    "EnquireLink",
    "EnquireLinkResp",
    "GenericNack",
    "Outbind",
    "Pdu",
    "PduError",
    "QuerySm",
    "QuerySmResp",
    "ReplaceSm",
    "ReplaceSmResp",
    "SubmitMulti",
    "SubmitMultiResp",
    "SubmitSm",
    "SubmitSmResp",
    "Unbind",
    "UnbindResp",
    "UnsuccessSme",
    "decode",
    "encode",
    "is_response",
    "make_response",
    "pdu_class",
    "peek_length",
]

S = CommandStatus


@dataclass(slots=True)
class Pdu:
    """Base of every PDU: the header fields a decoded or encoded PDU carries besides its body."""

    command_id: ClassVar[CommandId]
    sequence_number: int = 0
    command_status: int = 0

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)


@record
class DestAddress:
    """One submit_multi destination: an SME address, or a distribution list when dl_name is set."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    dl_name: str | None = None


@record
class UnsuccessSme:
    """One destination submit_multi_resp reports as failed, with its error status."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    error_status_code: int = 0


# --- session management (§4.1-§4.3, §4.11) ------------------------------------------------


@dataclass(slots=True)
class BindTransmitter(Pdu):
    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSMITTER
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(slots=True)
class BindReceiver(Pdu):
    command_id: ClassVar[CommandId] = CommandId.BIND_RECEIVER
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(slots=True)
class BindTransceiver(Pdu):
    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSCEIVER
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(slots=True)
class BindTransmitterResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSMITTER_RESP
    system_id: str = ""
    tlvs: dict[int, TlvValue] = field(default_factory=dict)


@dataclass(slots=True)
class BindReceiverResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.BIND_RECEIVER_RESP
    system_id: str = ""
    tlvs: dict[int, TlvValue] = field(default_factory=dict)


@dataclass(slots=True)
class BindTransceiverResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSCEIVER_RESP
    system_id: str = ""
    tlvs: dict[int, TlvValue] = field(default_factory=dict)


@dataclass(slots=True)
class Outbind(Pdu):
    command_id: ClassVar[CommandId] = CommandId.OUTBIND
    system_id: str = ""
    password: str = ""


@dataclass(slots=True)
class Unbind(Pdu):
    command_id: ClassVar[CommandId] = CommandId.UNBIND


@dataclass(slots=True)
class UnbindResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.UNBIND_RESP


@dataclass(slots=True)
class GenericNack(Pdu):
    command_id: ClassVar[CommandId] = CommandId.GENERIC_NACK


@dataclass(slots=True)
class EnquireLink(Pdu):
    command_id: ClassVar[CommandId] = CommandId.ENQUIRE_LINK


@dataclass(slots=True)
class EnquireLinkResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.ENQUIRE_LINK_RESP


# --- message submission and delivery (§4.4-§4.7) -------------------------------------------


@dataclass(slots=True)
class SubmitSm(Pdu):
    command_id: ClassVar[CommandId] = CommandId.SUBMIT_SM
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: dict[int, TlvValue] = field(default_factory=dict)


@dataclass(slots=True)
class SubmitSmResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.SUBMIT_SM_RESP
    message_id: str = ""


@dataclass(slots=True)
class DeliverSm(Pdu):
    command_id: ClassVar[CommandId] = CommandId.DELIVER_SM
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: dict[int, TlvValue] = field(default_factory=dict)


@dataclass(slots=True)
class DeliverSmResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.DELIVER_SM_RESP
    message_id: str = ""  # unused by v3.4 (always empty), kept for peers that fill it


@dataclass(slots=True)
class SubmitMulti(Pdu):
    command_id: ClassVar[CommandId] = CommandId.SUBMIT_MULTI
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addresses: list[DestAddress] = field(default_factory=list)
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: dict[int, TlvValue] = field(default_factory=dict)


@dataclass(slots=True)
class SubmitMultiResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.SUBMIT_MULTI_RESP
    message_id: str = ""
    unsuccess_smes: list[UnsuccessSme] = field(default_factory=list)


@dataclass(slots=True)
class DataSm(Pdu):
    command_id: ClassVar[CommandId] = CommandId.DATA_SM
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0
    tlvs: dict[int, TlvValue] = field(default_factory=dict)


@dataclass(slots=True)
class DataSmResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.DATA_SM_RESP
    message_id: str = ""
    tlvs: dict[int, TlvValue] = field(default_factory=dict)


# --- ancillary operations (§4.8-§4.12) ----------------------------------------------------


@dataclass(slots=True)
class QuerySm(Pdu):
    command_id: ClassVar[CommandId] = CommandId.QUERY_SM
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""


@dataclass(slots=True)
class QuerySmResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.QUERY_SM_RESP
    message_id: str = ""
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0


@dataclass(slots=True)
class CancelSm(Pdu):
    command_id: ClassVar[CommandId] = CommandId.CANCEL_SM
    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@dataclass(slots=True)
class CancelSmResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.CANCEL_SM_RESP


@dataclass(slots=True)
class ReplaceSm(Pdu):
    command_id: ClassVar[CommandId] = CommandId.REPLACE_SM
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""


@dataclass(slots=True)
class ReplaceSmResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.REPLACE_SM_RESP


@dataclass(slots=True)
class AlertNotification(Pdu):
    command_id: ClassVar[CommandId] = CommandId.ALERT_NOTIFICATION
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: str = ""
    tlvs: dict[int, TlvValue] = field(default_factory=dict)


# --- body layouts ---------------------------------------------------------------------------
# One row per mandatory field, in wire order (which is also the dataclass field order, checked
# below): (kind, name, C-string size including its NUL, status for a bad value).

_CSTR: Final = 0
_U8: Final = 1
_SM: Final = 2  # sm_length + short_message
_DESTS: Final = 3  # number_of_dests + dest_address(es)
_UNSUCCESS: Final = 4  # no_unsuccess + unsuccess_sme(s)

_Field = tuple[int, str, int, int]


def _c(name: str, size: int, status: int) -> _Field:
    return (_CSTR, name, size, status)


def _b(name: str) -> _Field:
    return (_U8, name, 1, S.ESME_RINVMSGLEN)


_SM_FIELD: Final = (_SM, "short_message", MAX_SHORT_MESSAGE, S.ESME_RINVMSGLEN)

_BIND: Final = (
    _c("system_id", 16, S.ESME_RINVSYSID),
    _c("password", 9, S.ESME_RINVPASWD),
    _c("system_type", 13, S.ESME_RINVSYSTYP),
    _b("interface_version"),
    _b("addr_ton"),
    _b("addr_npi"),
    _c("address_range", 41, S.ESME_RINVMSGLEN),
)
_BIND_RESP: Final = (_c("system_id", 16, S.ESME_RINVSYSID),)
_SM_BODY: Final = (
    _c("service_type", 6, S.ESME_RINVSERTYP),
    _b("source_addr_ton"),
    _b("source_addr_npi"),
    _c("source_addr", 21, S.ESME_RINVSRCADR),
    _b("dest_addr_ton"),
    _b("dest_addr_npi"),
    _c("destination_addr", 21, S.ESME_RINVDSTADR),
    _b("esm_class"),
    _b("protocol_id"),
    _b("priority_flag"),
    _c("schedule_delivery_time", 17, S.ESME_RINVSCHED),
    _c("validity_period", 17, S.ESME_RINVEXPIRY),
    _b("registered_delivery"),
    _b("replace_if_present_flag"),
    _b("data_coding"),
    _b("sm_default_msg_id"),
    _SM_FIELD,
)
_MESSAGE_ID: Final = (_c("message_id", 65, S.ESME_RINVMSGID),)

_LAYOUTS: Final[dict[type[Pdu], tuple[_Field, ...]]] = {
    BindTransmitter: _BIND,
    BindReceiver: _BIND,
    BindTransceiver: _BIND,
    BindTransmitterResp: _BIND_RESP,
    BindReceiverResp: _BIND_RESP,
    BindTransceiverResp: _BIND_RESP,
    Outbind: (_c("system_id", 16, S.ESME_RINVSYSID), _c("password", 9, S.ESME_RINVPASWD)),
    Unbind: (),
    UnbindResp: (),
    GenericNack: (),
    EnquireLink: (),
    EnquireLinkResp: (),
    SubmitSm: _SM_BODY,
    SubmitSmResp: _MESSAGE_ID,
    DeliverSm: _SM_BODY,
    DeliverSmResp: _MESSAGE_ID,
    SubmitMulti: (
        _c("service_type", 6, S.ESME_RINVSERTYP),
        _b("source_addr_ton"),
        _b("source_addr_npi"),
        _c("source_addr", 21, S.ESME_RINVSRCADR),
        (_DESTS, "dest_addresses", 21, S.ESME_RINVNUMDESTS),
        *_SM_BODY[7:],
    ),
    SubmitMultiResp: (
        _c("message_id", 65, S.ESME_RINVMSGID),
        (_UNSUCCESS, "unsuccess_smes", 21, S.ESME_RINVNUMDESTS),
    ),
    DataSm: (
        _c("service_type", 6, S.ESME_RINVSERTYP),
        _b("source_addr_ton"),
        _b("source_addr_npi"),
        _c("source_addr", 65, S.ESME_RINVSRCADR),
        _b("dest_addr_ton"),
        _b("dest_addr_npi"),
        _c("destination_addr", 65, S.ESME_RINVDSTADR),
        _b("esm_class"),
        _b("registered_delivery"),
        _b("data_coding"),
    ),
    DataSmResp: _MESSAGE_ID,
    QuerySm: (
        _c("message_id", 65, S.ESME_RINVMSGID),
        _b("source_addr_ton"),
        _b("source_addr_npi"),
        _c("source_addr", 21, S.ESME_RINVSRCADR),
    ),
    QuerySmResp: (
        _c("message_id", 65, S.ESME_RINVMSGID),
        _c("final_date", 17, S.ESME_RINVMSGLEN),
        _b("message_state"),
        _b("error_code"),
    ),
    CancelSm: (
        _c("service_type", 6, S.ESME_RINVSERTYP),
        _c("message_id", 65, S.ESME_RINVMSGID),
        _b("source_addr_ton"),
        _b("source_addr_npi"),
        _c("source_addr", 21, S.ESME_RINVSRCADR),
        _b("dest_addr_ton"),
        _b("dest_addr_npi"),
        _c("destination_addr", 21, S.ESME_RINVDSTADR),
    ),
    CancelSmResp: (),
    ReplaceSm: (
        _c("message_id", 65, S.ESME_RINVMSGID),
        _b("source_addr_ton"),
        _b("source_addr_npi"),
        _c("source_addr", 21, S.ESME_RINVSRCADR),
        _c("schedule_delivery_time", 17, S.ESME_RINVSCHED),
        _c("validity_period", 17, S.ESME_RINVEXPIRY),
        _b("registered_delivery"),
        _b("sm_default_msg_id"),
        _SM_FIELD,
    ),
    ReplaceSmResp: (),
    AlertNotification: (
        _b("source_addr_ton"),
        _b("source_addr_npi"),
        _c("source_addr", 65, S.ESME_RINVSRCADR),
        _b("esme_addr_ton"),
        _b("esme_addr_npi"),
        _c("esme_addr", 65, S.ESME_RINVDSTADR),
    ),
}

_WITH_TLVS: Final[frozenset[type[Pdu]]] = frozenset(
    cls for cls in _LAYOUTS if any(f.name == "tlvs" for f in fields(cls))
)
_BY_ID: Final[dict[int, type[Pdu]]] = {cls.command_id: cls for cls in _LAYOUTS}
_RESPONSE_OF: Final[dict[type[Pdu], type[Pdu]]] = {
    cls: _BY_ID[cls.command_id | RESPONSE_BIT]
    for cls in _LAYOUTS
    if not cls.command_id & RESPONSE_BIT and cls.command_id | RESPONSE_BIT in _BY_ID
}


def _check_layouts() -> None:
    # Decoding builds dataclasses positionally from the layout, so the orders must agree.
    for cls, layout in _LAYOUTS.items():
        names = [f.name for f in fields(cls)][2:]
        expected = [row[1] for row in layout] + (["tlvs"] if cls in _WITH_TLVS else [])
        if names != expected:  # pragma: no cover - a programming error caught at import
            raise AssertionError(f"{cls.__name__}: fields {names} != layout {expected}")


_check_layouts()

_HEADER = struct.Struct("!IIII")
_LENGTH = struct.Struct("!I")
_U32 = struct.Struct("!I")
_B3 = struct.Struct("!BBB")
_B5 = struct.Struct("!BBBBB")
_PAYLOAD_TAG: Final = int(Tag.MESSAGE_PAYLOAD)
# Plain ints: struct packs an IntEnum noticeably slower than an int.
_RAW_IDS: Final[dict[type[Pdu], int]] = {cls: int(cls.command_id) for cls in _LAYOUTS}


def pdu_class(command_id: int) -> type[Pdu] | None:
    """The PDU class for a command_id, or None when v3.4 defines no such command."""
    return _BY_ID.get(command_id)


def is_response(pdu: Pdu | type[Pdu]) -> bool:
    return bool(pdu.command_id & RESPONSE_BIT)


def make_response(request: Pdu, command_status: int = 0, **fields: Any) -> Pdu:
    """The *_resp answering `request`, with its sequence_number; outbind and alert_notification
    have none (ValueError), nor has a response."""
    resp_cls = _RESPONSE_OF.get(type(request))
    if resp_cls is None:
        raise ValueError(f"{type(request).__name__} has no response PDU")
    return resp_cls(
        sequence_number=request.sequence_number, command_status=command_status, **fields
    )


def peek_length(buf: bytes | bytearray | memoryview) -> int | None:
    """command_length of the PDU at the start of buf; None until 4 octets have arrived."""
    if len(buf) < 4:
        return None
    (length,) = _LENGTH.unpack_from(buf, 0)
    if length < HEADER_LENGTH or length > MAX_PDU_LENGTH:
        raise PduError(
            S.ESME_RINVCMDLEN,
            f"command_length {length} is outside {HEADER_LENGTH}..{MAX_PDU_LENGTH}",
        )
    return int(length)


# --- encoding ---------------------------------------------------------------------------------


def _encode_cstr(value: object, size: int, status: int, name: str) -> bytes:
    if not isinstance(value, str):
        raise PduError(status, f"{name} must be a str, not {type(value).__name__}")
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raise PduError(status, f"{name} is not ASCII/Latin-1") from None
    if len(raw) >= size:
        raise PduError(status, f"{name} is {len(raw)} octets; at most {size - 1} fit")
    if 0 in raw:
        raise PduError(status, f"{name} contains a NUL")
    return raw + b"\0"


def _encode_u8(value: object, name: str) -> bytes:
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise PduError(S.ESME_RINVMSGLEN, f"{name} must be an int in 0..255, not {value!r}")
    return bytes((value,))


def _encode_u32(value: object, name: str) -> bytes:
    if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise PduError(S.ESME_RSYSERR, f"{name} must be a uint32, not {value!r}")
    return _U32.pack(value)


def _encode_body(pdu: Pdu, layout: tuple[_Field, ...]) -> bytes:
    parts: list[bytes] = []
    for kind, name, size, status in layout:
        value = getattr(pdu, name)
        if kind == _CSTR:
            parts.append(_encode_cstr(value, size, status, name))
        elif kind == _U8:
            parts.append(_encode_u8(value, name))
        elif kind == _SM:
            if not isinstance(value, bytes | bytearray | memoryview):
                raise PduError(status, f"short_message must be bytes, not {type(value).__name__}")
            if len(value) > size:
                raise PduError(status, f"short_message is {len(value)} octets; at most {size}")
            parts.append(bytes((len(value),)))
            parts.append(bytes(value))
        elif kind == _DESTS:
            if len(value) > 254:
                raise PduError(status, f"{len(value)} destinations; at most 254")
            parts.append(bytes((len(value),)))
            for dest in value:
                if dest.dl_name is not None:
                    parts.append(
                        b"\x02" + _encode_cstr(dest.dl_name, size, S.ESME_RINVDLNAME, "dl_name")
                    )
                else:
                    parts.append(b"\x01")
                    parts.append(_encode_u8(dest.dest_addr_ton, "dest_addr_ton"))
                    parts.append(_encode_u8(dest.dest_addr_npi, "dest_addr_npi"))
                    parts.append(
                        _encode_cstr(
                            dest.destination_addr, size, S.ESME_RINVDSTADR, "destination_addr"
                        )
                    )
        else:  # _UNSUCCESS
            if len(value) > 254:
                raise PduError(status, f"{len(value)} unsuccessful SMEs; at most 254")
            parts.append(bytes((len(value),)))
            for sme in value:
                parts.append(_encode_u8(sme.dest_addr_ton, "dest_addr_ton"))
                parts.append(_encode_u8(sme.dest_addr_npi, "dest_addr_npi"))
                parts.append(
                    _encode_cstr(sme.destination_addr, size, S.ESME_RINVDSTADR, "destination_addr")
                )
                parts.append(_encode_u32(sme.error_status_code, "error_status_code"))
    tlvs: dict[int, TlvValue] | None = getattr(pdu, "tlvs", None)
    if tlvs:
        short_message: bytes = getattr(pdu, "short_message", b"")
        if _PAYLOAD_TAG in tlvs and short_message:
            raise PduError(
                S.ESME_RINVMSGLEN, "message_payload given with a non-empty short_message"
            )
        parts.append(encode_tlvs(tlvs))
    return b"".join(parts)


def _encode_generic(pdu: Pdu) -> bytes:
    cls = type(pdu)
    layout = _LAYOUTS.get(cls)
    if layout is None:
        raise PduError(S.ESME_RINVCMDID, f"{cls.__name__} is not an SMPP v3.4 PDU")
    status = pdu.command_status
    # §4.4.2: an error response carries no body. TLVs on an error response (data_sm_resp's
    # delivery_failure_reason, say) are only reachable after the mandatory fields, so then the
    # whole body goes out.
    if status and cls.command_id & RESPONSE_BIT and not getattr(pdu, "tlvs", None):
        body = b""
    else:
        body = _encode_body(pdu, layout)
    header = (
        _encode_u32(HEADER_LENGTH + len(body), "command_length")
        + _U32.pack(cls.command_id)
        + _encode_u32(status, "command_status")
        + _encode_u32(pdu.sequence_number, "sequence_number")
    )
    if HEADER_LENGTH + len(body) > MAX_PDU_LENGTH:
        raise PduError(S.ESME_RINVCMDLEN, f"PDU of {HEADER_LENGTH + len(body)} octets is too long")
    return header + body


# submit_sm / deliver_sm bodies differ only in their string lengths, so one precompiled Struct
# per combination of lengths packs a whole PDU in a single call (`s` pads the NUL for us).
_SmKey = tuple[int, int, int, int, int, int]
_SM_PACKERS: dict[_SmKey, struct.Struct] = {}
_SM_PACKERS_MAX: Final = 4096


def _sm_packer(key: _SmKey) -> struct.Struct | None:
    st, src, dst, sched, valid, sm = key
    if st > 5 or src > 20 or dst > 20 or sched > 16 or valid > 16 or sm > MAX_SHORT_MESSAGE:
        return None
    packer = struct.Struct(
        f"!IIII{st + 1}sBB{src + 1}sBB{dst + 1}sBBB{sched + 1}s{valid + 1}sBBBBB{sm}s"
    )
    if len(_SM_PACKERS) >= _SM_PACKERS_MAX:
        _SM_PACKERS.clear()
    _SM_PACKERS[key] = packer
    return packer


def _encode_sm(p: Any) -> bytes:
    # The hot path: no per-field calls. Anything doubtful falls back to the generic encoder,
    # which names the bad field.
    try:
        st = p.service_type.encode("latin-1")
        src = p.source_addr.encode("latin-1")
        dst = p.destination_addr.encode("latin-1")
        sched = p.schedule_delivery_time.encode("latin-1")
        valid = p.validity_period.encode("latin-1")
        sm = p.short_message
        key = (len(st), len(src), len(dst), len(sched), len(valid), len(sm))
        packer = _SM_PACKERS.get(key) or _sm_packer(key)
        if (
            packer is None
            or 0 in st
            or 0 in src
            or 0 in dst
            or 0 in sched
            or 0 in valid
            or type(sm) is not bytes
        ):
            return _encode_generic(p)
        tlvs = p.tlvs
        if tlvs:
            if sm and _PAYLOAD_TAG in tlvs:
                return _encode_generic(p)
            tail = encode_tlvs(tlvs)
            if packer.size + len(tail) > MAX_PDU_LENGTH:
                return _encode_generic(p)
        else:
            tail = b""
        packed = packer.pack(
            packer.size + len(tail),
            _RAW_IDS[type(p)],
            p.command_status,
            p.sequence_number,
            st,
            p.source_addr_ton,
            p.source_addr_npi,
            src,
            p.dest_addr_ton,
            p.dest_addr_npi,
            dst,
            p.esm_class,
            p.protocol_id,
            p.priority_flag,
            sched,
            valid,
            p.registered_delivery,
            p.replace_if_present_flag,
            p.data_coding,
            p.sm_default_msg_id,
            key[5],
            sm,
        )
        return packed + tail if tail else packed
    except (AttributeError, TypeError, ValueError, OverflowError, struct.error):
        return _encode_generic(p)


def _encode_message_id_resp(p: Any) -> bytes:
    # submit_sm_resp / deliver_sm_resp, the other half of the hot path.
    try:
        status = p.command_status
        if status:
            return _HEADER.pack(16, _RAW_IDS[type(p)], status, p.sequence_number)
        mid: bytes = p.message_id.encode("latin-1")
        if len(mid) > 64 or 0 in mid:
            return _encode_generic(p)
        return _HEADER.pack(17 + len(mid), _RAW_IDS[type(p)], 0, p.sequence_number) + mid + b"\0"
    except (AttributeError, TypeError, ValueError, OverflowError, struct.error):
        return _encode_generic(p)


_ENCODERS: Final[dict[type[Pdu], Any]] = {
    SubmitSm: _encode_sm,
    DeliverSm: _encode_sm,
    SubmitSmResp: _encode_message_id_resp,
    DeliverSmResp: _encode_message_id_resp,
}


def encode(pdu: Pdu) -> bytes:
    """The wire form of one PDU, header included. Raises PduError for a value that cannot go on
    the wire (a C-string too long or not Latin-1, an int out of range, a TLV of the wrong size)."""
    encoder = _ENCODERS.get(type(pdu), _encode_generic)
    result: bytes = encoder(pdu)
    return result


# --- decoding ---------------------------------------------------------------------------------


def _cstr_error(name: str, size: int, status: int) -> PduError:
    return PduError(status, f"{name} has no NUL within its {size} octets")


def _decode_body(cls: type[Pdu], data: bytes, end: int) -> list[Any]:
    values: list[Any] = []
    off = HEADER_LENGTH
    find = data.find
    for kind, name, size, status in _LAYOUTS[cls]:
        if kind == _CSTR:
            z = find(b"\0", off, off + size)
            if z < 0:
                raise _cstr_error(name, size, status)
            values.append(data[off:z].decode("latin-1"))
            off = z + 1
        elif kind == _U8:
            values.append(data[off])
            off += 1
        elif kind == _SM:
            length = data[off]
            off += 1
            if length > size:
                raise PduError(status, f"sm_length {length} exceeds {size}")
            if off + length > end:
                raise PduError(status, f"sm_length {length} runs past the PDU")
            values.append(data[off : off + length])
            off += length
        elif kind == _DESTS:
            count = data[off]
            off += 1
            if count > 254:
                raise PduError(status, f"number_of_dests {count} exceeds 254")
            dests: list[DestAddress] = []
            for _ in range(count):
                flag = data[off]
                if flag == 1:
                    ton, npi = data[off + 1], data[off + 2]
                    off += 3
                    z = find(b"\0", off, off + size)
                    if z < 0:
                        raise _cstr_error("destination_addr", size, S.ESME_RINVDSTADR)
                    dests.append(DestAddress(ton, npi, data[off:z].decode("latin-1")))
                elif flag == 2:
                    off += 1
                    z = find(b"\0", off, off + size)
                    if z < 0:
                        raise _cstr_error("dl_name", size, S.ESME_RINVDLNAME)
                    dests.append(DestAddress(dl_name=data[off:z].decode("latin-1")))
                else:
                    raise PduError(S.ESME_RINVDESTFLAG, f"dest_flag {flag} is neither 1 nor 2")
                off = z + 1
            values.append(dests)
        else:  # _UNSUCCESS
            count = data[off]
            off += 1
            smes: list[UnsuccessSme] = []
            for _ in range(count):
                ton, npi = data[off], data[off + 1]
                off += 2
                z = find(b"\0", off, off + size)
                if z < 0:
                    raise _cstr_error("destination_addr", size, S.ESME_RINVDSTADR)
                (error_status,) = _U32.unpack_from(data, z + 1)
                smes.append(UnsuccessSme(ton, npi, data[off:z].decode("latin-1"), error_status))
                off = z + 5
            values.append(smes)
        if off > end:
            raise PduError(S.ESME_RINVCMDLEN, f"{name} runs past command_length")
    if cls in _WITH_TLVS:
        tlvs = decode_tlvs(data, off, end) if off < end else {}
        # Where short_message exists it is the last mandatory field; message_payload replaces it.
        if _PAYLOAD_TAG in tlvs and values and values[-1] and _LAYOUTS[cls][-1][0] == _SM:
            raise PduError(S.ESME_RINVMSGLEN, "message_payload with a non-empty short_message")
        values.append(tlvs)
    elif off < end:
        raise PduError(S.ESME_RINVCMDLEN, f"{end - off} octet(s) after the last field")
    return values


# The longest run of mandatory fields before sm_length in submit_sm / deliver_sm.
_SM_HEAD: Final = HEADER_LENGTH + 6 + 2 + 21 + 2 + 21 + 3 + 17 + 17 + 5
# The five C-strings of a well-formed submit_sm / deliver_sm head, matched in one C call on its
# Latin-1 text (octets map 1:1 to code points). Anything it does not match goes to the generic
# decoder, which names the field at fault.
_SM_STRINGS: Final = re.compile(
    "([^\0]{0,5})\0..([^\0]{0,20})\0..([^\0]{0,20})\0...([^\0]{0,16})\0([^\0]{0,16})\0",
    re.DOTALL,
)
# The 13 one-octet fields between those strings, by the strings' lengths.
_SM_UNPACKERS: dict[tuple[int, int, int, int, int], struct.Struct] = {}


def _sm_unpacker(key: tuple[int, int, int, int, int]) -> struct.Struct:
    st, src, dst, sched, valid = key
    unpacker = struct.Struct(f"!{17 + st}xBB{src + 1}xBB{dst + 1}xBBB{sched + valid + 2}xBBBBB")
    if len(_SM_UNPACKERS) >= _SM_PACKERS_MAX:
        _SM_UNPACKERS.clear()
    _SM_UNPACKERS[key] = unpacker
    return unpacker


def _decode_sm(cls: type[Pdu], data: bytes, end: int, seq: int, status: int) -> Pdu:
    match = _SM_STRINGS.match(data[:_SM_HEAD].decode("latin-1"), HEADER_LENGTH)
    if match is None or match.end() + 5 > end:
        return cls(seq, status, *_decode_body(cls, data, end))
    service_type, source_addr, destination_addr, schedule, validity = match.groups()
    key = (len(service_type), len(source_addr), len(destination_addr), len(schedule), len(validity))
    (
        src_ton,
        src_npi,
        dst_ton,
        dst_npi,
        esm_class,
        protocol_id,
        priority_flag,
        registered,
        replace,
        coding,
        default_id,
        sm_length,
    ) = (_SM_UNPACKERS.get(key) or _sm_unpacker(key)).unpack_from(data)
    off = match.end() + 5
    stop = off + sm_length
    if sm_length > MAX_SHORT_MESSAGE:
        raise PduError(S.ESME_RINVMSGLEN, f"sm_length {sm_length} exceeds {MAX_SHORT_MESSAGE}")
    if stop > end:
        raise PduError(S.ESME_RINVMSGLEN, f"sm_length {sm_length} runs past the PDU")
    if stop < end:
        tlvs = decode_tlvs(data, stop, end)
        if sm_length and _PAYLOAD_TAG in tlvs:
            raise PduError(S.ESME_RINVMSGLEN, "message_payload with a non-empty short_message")
    else:
        tlvs = {}
    return cls(
        seq,  # type: ignore[call-arg]
        status,
        service_type,
        src_ton,
        src_npi,
        source_addr,
        dst_ton,
        dst_npi,
        destination_addr,
        esm_class,
        protocol_id,
        priority_flag,
        schedule,
        validity,
        registered,
        replace,
        coding,
        default_id,
        data[off:stop],
        tlvs,
    )


def _decode_message_id_resp(cls: type[Pdu], data: bytes, end: int, seq: int, status: int) -> Pdu:
    # submit_sm_resp / deliver_sm_resp: one C-string that must end the PDU.
    z = data.find(b"\0", HEADER_LENGTH, HEADER_LENGTH + 65)
    if z < 0:
        raise _cstr_error("message_id", 65, S.ESME_RINVMSGID)
    if z + 1 != end:
        raise PduError(S.ESME_RINVCMDLEN, f"{end - z - 1} octet(s) after the last field")
    return cls(seq, status, data[HEADER_LENGTH:z].decode("latin-1"))  # type: ignore[call-arg]


def decode(frame: bytes | bytearray | memoryview) -> Pdu:
    """The PDU in `frame`, which holds exactly one whole PDU, header included."""
    data = frame if type(frame) is bytes else bytes(frame)
    end = len(data)
    if end < HEADER_LENGTH:
        raise PduError(S.ESME_RINVCMDLEN, f"{end} octets cannot hold a PDU header")
    length, command_id, status, seq = _HEADER.unpack_from(data, 0)
    try:
        if length != end:
            raise PduError(S.ESME_RINVCMDLEN, f"command_length {length} but the frame has {end}")
        if length > MAX_PDU_LENGTH:
            raise PduError(S.ESME_RINVCMDLEN, f"command_length {length} exceeds {MAX_PDU_LENGTH}")
        cls = _BY_ID.get(command_id)
        if cls is None:
            raise PduError(S.ESME_RINVCMDID, f"unknown command_id 0x{command_id:08X}")
        if end == HEADER_LENGTH and command_id & RESPONSE_BIT:
            # Error responses carry no body (§4.4.2), and some peers send bare OK responses.
            return cls(seq, status)
        if cls is SubmitSm or cls is DeliverSm:
            return _decode_sm(cls, data, end, seq, status)
        if cls is SubmitSmResp or cls is DeliverSmResp:
            return _decode_message_id_resp(cls, data, end, seq, status)
        return cls(seq, status, *_decode_body(cls, data, end))
    except PduError as exc:
        exc.command_id = command_id
        exc.sequence_number = seq
        raise
    except (IndexError, struct.error):
        raise PduError(
            S.ESME_RINVCMDLEN, "the body ends inside a mandatory field", command_id, seq
        ) from None
