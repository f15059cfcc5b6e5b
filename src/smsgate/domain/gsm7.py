"""The GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet and its extension table: membership,
length in septets, unpacked encoding (one septet per octet, ESC 0x1B before extension
characters), lenient decoding, and septet packing for upstreams that want it.

National shift tables are not here. Segmenting is `segments.py`'s job, not this module's.
"""

from __future__ import annotations

import codecs
import re

ESC = 0x1B

# Index = septet value. 0x1B is the escape to the extension table, not a character.
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Character -> septet after ESC; each costs two septets.
EXTENSION = {
    "\x0c": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

_BASIC = {ch: code for code, ch in enumerate(DEFAULT_ALPHABET) if code != ESC}
_EXTENSION_BY_CODE = {code: ch for ch, code in EXTENSION.items()}
_ALL_CHARS = "".join(_BASIC) + "".join(EXTENSION)
_GSM7_TEXT = re.compile(f"[{re.escape(_ALL_CHARS)}]*")
_EXTENSION_CHARS = re.compile(f"[{re.escape(''.join(EXTENSION))}]")

# ASCII text (the common case) is encoded by bytes.translate at C speed: every ASCII code point
# maps to its septet, ASCII outside the alphabet to _NOT_GSM, and each ASCII extension character
# to a marker octet that is then replaced by its ESC pair.
_NOT_GSM = 0x80
_ASCII_TO_SEPTETS = bytearray([_NOT_GSM] * 256)
_MARKERS: list[tuple[bytes, bytes]] = []
for _ch, _code in _BASIC.items():
    if _ch.isascii():
        _ASCII_TO_SEPTETS[ord(_ch)] = _code
for _marker, (_ch, _code) in enumerate(
    ((c, code) for c, code in EXTENSION.items() if c.isascii()), start=0x81
):
    _ASCII_TO_SEPTETS[ord(_ch)] = _marker
    _MARKERS.append((bytes([_marker]), bytes([ESC, _code])))
_ASCII_TABLE = bytes(_ASCII_TO_SEPTETS)

# Other text goes through str.translate: slower, but only accented Latin, Greek and '€' need it.
# Every code point below 0x80 that is not in the alphabet maps to 0x80 so the ASCII encode fails.
_TO_SEPTETS: dict[int, str] = {cp: "\x80" for cp in range(0x80)}
_TO_SEPTETS.update({ord(ch): chr(code) for ch, code in _BASIC.items()})
_TO_SEPTETS.update({ord(ch): chr(ESC) + chr(code) for ch, code in EXTENSION.items()})

# Lenient decoding through the charmap codec: octets >= 0x80 read as '?'; ESC is handled first.
_DECODING_TABLE = DEFAULT_ALPHABET.replace("\x1b", "?") + "?" * 128


class NotGsm7(ValueError):
    """Text holding a character outside the default alphabet and its extension table."""


def is_gsm7(text: str) -> bool:
    return _GSM7_TEXT.fullmatch(text) is not None


def gsm7_length(text: str) -> int:
    """Septets `text` takes unpacked: one per character, two per extension character."""
    if not is_gsm7(text):
        raise NotGsm7("text is not in the GSM 03.38 alphabet")
    return len(text) + len(_EXTENSION_CHARS.findall(text))


def encode_gsm7(text: str) -> bytes:
    """Unpacked septets, one per octet; ESC 0x1B precedes each extension character."""
    if text.isascii():
        septets = text.encode("ascii").translate(_ASCII_TABLE)
        if _NOT_GSM in septets:
            raise NotGsm7("text is not in the GSM 03.38 alphabet")
        if _EXTENSION_CHARS.search(text) is not None:
            for marker, pair in _MARKERS:
                if marker in septets:
                    septets = septets.replace(marker, pair)
        return septets
    try:
        return text.translate(_TO_SEPTETS).encode("ascii")
    except UnicodeEncodeError:
        raise NotGsm7("text is not in the GSM 03.38 alphabet") from None


def decode_gsm7(data: bytes) -> str:
    """Unpacked septets to text, leniently: octets >= 0x80 and ESC followed by a code that the
    extension table lacks become '?'; a lone ESC at the very end is dropped."""
    out: list[str] = []
    start, size = 0, len(data)
    while (esc := data.find(ESC, start)) >= 0:
        out.append(codecs.charmap_decode(data[start:esc], "strict", _DECODING_TABLE)[0])
        if esc + 1 == size:
            return "".join(out)
        out.append(_EXTENSION_BY_CODE.get(data[esc + 1], "?"))
        start = esc + 2
    out.append(codecs.charmap_decode(data[start:], "strict", _DECODING_TABLE)[0])
    return "".join(out)


def pack_septets(septets: bytes) -> bytes:
    """Pack 7-bit values LSB-first into octets (3GPP TS 23.038 §6.1.2.1.1), no fill bits."""
    if any(s > 0x7F for s in septets):
        raise ValueError("a septet is 0..127")
    value = 0
    for index, septet in enumerate(septets):
        value |= septet << (7 * index)
    return value.to_bytes((len(septets) * 7 + 7) // 8, "little")


def unpack_septets(data: bytes, count: int | None = None) -> bytes:
    """The inverse of `pack_septets`. Without `count`, every whole septet in `data` is returned,
    so 7 octets give 8 septets; pass the septet count when the sender gave it."""
    available = len(data) * 8 // 7
    if count is None:
        count = available
    elif not 0 <= count <= available:
        raise ValueError(f"{len(data)} octets hold at most {available} septets, not {count}")
    value = int.from_bytes(data, "little")
    return bytes((value >> (7 * index)) & 0x7F for index in range(count))
