"""How legacy SMS Club clients write text and lists: raw Windows-1251 or UTF-8 bytes, base64 of
either, and recipient or id lists separated by `;` or `,`.

Shared by the HTTP and XML gateways. Only decoding lives here: whether a text, number or id is
acceptable is the gateway's business.
"""

from __future__ import annotations

import base64
import binascii
import re

LIST_SEPARATORS = re.compile(r"[;,]")
_BASE64_NOISE = re.compile(rb"[\r\n\t]")


class InvalidBase64(ValueError):
    """A value announced as base64 is not base64."""


def decode_legacy_text(raw: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8 (pure ASCII reads the same either way), otherwise
    Windows-1251, the encoding of older Ukrainian and Russian clients.

    A Windows-1251 text of Cyrillic letters is almost never valid UTF-8, so the guess is safe.
    The one byte Windows-1251 leaves undefined (0x98) becomes U+FFFD rather than an error: a
    door answers, it does not crash on a client's stray byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1251", errors="replace")


def decode_base64_text(value: bytes) -> str:
    """Base64 of Windows-1251 or UTF-8 text, by the same rule as `decode_legacy_text`.

    Lenient about how clients mangle base64 in URLs: a `+` sent unescaped arrives as a space
    after form decoding, line breaks are ignored, and missing `=` padding is restored."""
    compact = _BASE64_NOISE.sub(b"", value).replace(b" ", b"+")
    compact += b"=" * (-len(compact) % 4)
    try:
        raw = base64.b64decode(compact, altchars=None, validate=True)
    except (binascii.Error, ValueError):
        try:
            # URL-safe alphabet (`-` and `_`), which some clients use.
            raw = base64.b64decode(compact, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise InvalidBase64("Text is not valid base64") from None
    return decode_legacy_text(raw)


def split_list(value: str) -> list[str]:
    """`a;b, c;;` → `["a", "b", "c"]`: `;` or `,` separated, spaces trimmed, empties dropped."""
    return [item for item in (part.strip() for part in LIST_SEPARATORS.split(value)) if item]
