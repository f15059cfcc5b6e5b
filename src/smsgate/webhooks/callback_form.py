"""The per-message callback (Kannel's and Jasmin's `dlr-url`): the fields `id`, `phone`,
`status`, `err`, `parts`, `done_at`, sent as a POST form or, for a `dlr_url` given with GET, in
the query string.

Either way the URL's own query parameters are kept as written and ours come after them, so a
customer's `?order=17` arrives back untouched (on a name clash both values arrive, theirs
first). GET does not substitute Kannel's `%d`/`%p` escapes: the fields are named parameters,
as Jasmin sends them. Pure: builds the request, never sends it.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote_plus

from smsgate.immutable import record
from smsgate.webhooks.attempt import OutgoingRequest

FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


@record
class CallbackFields:
    """One message's state as the callback reports it; `done_at` is None until it is final."""

    id: str
    phone: str
    status: str  # one of the five statuses (domain/status.py)
    err: str  # the operator's error code, "" when none
    parts: int
    done_at: datetime | None = None

    def pairs(self) -> list[tuple[str, str]]:
        return [
            ("id", self.id),
            ("phone", self.phone),
            ("status", self.status),
            ("err", self.err),
            ("parts", str(self.parts)),
            ("done_at", "" if self.done_at is None else _utc_text(self.done_at)),
        ]


@functools.lru_cache(maxsize=64)
def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("done_at must carry its time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# What quote_plus leaves as it is, and the colon: most values (ids, digits, statuses, the
# done_at time) need no quoting but of their colons, and urlencode's quote_plus per field was
# a third of a callback's CPU in the outbox pump (quote_plus of done_at alone half a form).
_PLAIN = re.compile(r"[A-Za-z0-9_.~:-]*")


def _form(pairs: list[tuple[str, str]]) -> str:
    """urlencode(pairs), byte for byte, for our own plain keys, quoting only the values that
    need it."""
    return "&".join(
        f"{k}={v.replace(':', '%3A') if _PLAIN.fullmatch(v) else quote_plus(v)}" for k, v in pairs
    )


def callback_request(
    url: str, fields: CallbackFields, method: Literal["GET", "POST"] = "POST"
) -> OutgoingRequest:
    """The request that tells `url` about one message. `url` is checked already (url_safety)."""
    base = url.split("#", 1)[0]  # a fragment is never sent to the server
    encoded = _form(fields.pairs())
    if method == "POST":
        return OutgoingRequest("POST", base, (("content-type", FORM_TYPE),), encoded.encode())
    if method == "GET":
        separator = "" if base.endswith(("?", "&")) else ("&" if "?" in base else "?")
        return OutgoingRequest("GET", base + separator + encoded)
    raise ValueError(f"callback method is GET or POST, not {method!r}")
