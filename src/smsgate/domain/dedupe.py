"""The key that recognises a repeated send: the same account, number and text.

Only the key lives here; the window (how long a key blocks a repeat) is the store's business.
"""

from __future__ import annotations

import hashlib

KEY_SIZE = 16
# A personalisation string keeps these digests apart from any other blake2b use of the same bytes.
_PERSON = b"smsgate-dedupe"


def dedupe_key(account_id: int, phone: str, text: str) -> bytes:
    """16 bytes of blake2b, stable across processes and Python versions (no `hash()`)."""
    digest = hashlib.blake2b(digest_size=KEY_SIZE, person=_PERSON)
    digest.update(account_id.to_bytes(8, "big", signed=True))
    # Length-prefix the phone so ("1", "23") and ("12", "3") can never collide.
    encoded_phone = phone.encode("utf-8", "surrogatepass")
    digest.update(len(encoded_phone).to_bytes(4, "big"))
    digest.update(encoded_phone)
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.digest()


# account id -> the hash state after its id, shared by every DedupeKeys of that account (only
# ever copied, never updated, so sharing is safe): a new keyed hasher costs more than a copy.
_prefixes: dict[int, hashlib.blake2b] = {}
_MAX_PREFIXES = 4096


class DedupeKeys:
    """`dedupe_key` for many recipients of one account: the hash state after the account id is
    made once and copied per key, and each text is encoded once, so a key costs one copy and one
    update instead of a new hasher and four updates. Same bytes, same digest as `dedupe_key`."""

    __slots__ = ("_prefix", "_texts")

    def __init__(self, account_id: int) -> None:
        prefix: hashlib.blake2b | None = _prefixes.get(account_id)
        if prefix is None:
            prefix = hashlib.blake2b(digest_size=KEY_SIZE, person=_PERSON)
            prefix.update(account_id.to_bytes(8, "big", signed=True))
            if len(_prefixes) >= _MAX_PREFIXES:
                _prefixes.clear()
            _prefixes[account_id] = prefix
        self._prefix = prefix
        self._texts: dict[str, bytes] = {}

    def key(self, phone: str, text: str) -> bytes:
        encoded_text = self._texts.get(text)
        if encoded_text is None:
            encoded_text = self._texts[text] = text.encode("utf-8", "surrogatepass")
        encoded_phone = phone.encode("utf-8", "surrogatepass")
        digest = self._prefix.copy()
        digest.update(len(encoded_phone).to_bytes(4, "big") + encoded_phone + encoded_text)
        return digest.digest()
