"""Standard Webhooks signatures (standardwebhooks.com): the `webhook-id`, `webhook-timestamp`
and `webhook-signature` headers, and secrets in their `whsec_<base64>` form.

Pure: the caller gives the id, the time and the exact body bytes. A retry keeps the id and is
signed again with the attempt's own timestamp, since receivers refuse timestamps older than a
few minutes. During a rotation both secrets sign, so a receiver holding either one verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from smsgate.immutable import record

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # 256-bit keys, the size the spec recommends for HMAC-SHA256
MIN_SECRET_BYTES = 24  # the spec's floor is 24 bytes; shorter keys are refused
MAX_SECRET_BYTES = 64
MAX_ACTIVE_SECRETS = 2  # the current one and, during a rotation, the one it replaces


class BadWebhookSecret(ValueError):
    """A secret that is not `whsec_` followed by base64 of 24 to 64 bytes."""


@record
class WebhookSecret:
    """One signing key. `text` is the form an operator sees and gives back (`whsec_...`)."""

    key: bytes

    @property
    def text(self) -> str:
        return SECRET_PREFIX + base64.b64encode(self.key).decode("ascii")

    def __repr__(self) -> str:
        # Never print the key: logs and tracebacks show only that a secret was there.
        return "WebhookSecret(<hidden>)"


def new_secret() -> WebhookSecret:
    return WebhookSecret(secrets.token_bytes(SECRET_BYTES))


def parse_secret(text: str) -> WebhookSecret:
    """`whsec_<base64>` (padding optional) to a secret; anything else raises BadWebhookSecret."""
    if not text.startswith(SECRET_PREFIX):
        raise BadWebhookSecret(f"a webhook secret starts with {SECRET_PREFIX!r}")
    encoded = text[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise BadWebhookSecret("a webhook secret is whsec_ followed by base64") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise BadWebhookSecret(
            f"a webhook secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {len(key)}"
        )
    return WebhookSecret(key)


def signature(secret: WebhookSecret, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(
    secrets_: Sequence[WebhookSecret], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers of one attempt; one signature per active secret, space-separated."""
    if not 1 <= len(secrets_) <= MAX_ACTIVE_SECRETS:
        raise ValueError(f"an endpoint signs with 1 to {MAX_ACTIVE_SECRETS} secrets")
    if not msg_id or " " in msg_id or "." in msg_id:
        # The id is part of the signed string "id.timestamp.body": a dot would make it ambiguous.
        raise ValueError("a webhook id is non-empty, without spaces or dots")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets_),
    }
