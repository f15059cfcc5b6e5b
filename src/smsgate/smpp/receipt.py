"""Delivery receipt text (SMPP v3.4 Appendix B, de-facto format): formatting ours exactly and
parsing what real SMSCs send, tolerantly, plus the stat <-> message_state mapping.

Knows nothing of the gateway's own statuses; the gateway maps MessageState to them.
"""

from __future__ import annotations

import re
from datetime import datetime

from smsgate.immutable import record
from smsgate.smpp.constants import MessageState


class ReceiptError(ValueError):
    """The text is not a delivery receipt we can read."""


@record
class Receipt:
    id: str
    sub: int
    dlvrd: int
    submit_date: datetime | None
    done_date: datetime | None
    stat: str
    err: int
    text: str


_STAT_OF_STATE: dict[MessageState, str] = {
    MessageState.ENROUTE: "ENROUTE",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.DELETED: "DELETED",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.REJECTED: "REJECTD",
}
_STATE_OF_STAT: dict[str, MessageState] = {
    **{stat: state for state, stat in _STAT_OF_STATE.items()},
    # Spellings seen from SMSCs that write the state out in full.
    "DELIVERED": MessageState.DELIVERED,
    "UNDELIVERABLE": MessageState.UNDELIVERABLE,
    "UNDELIVERED": MessageState.UNDELIVERABLE,
    "ACCEPTED": MessageState.ACCEPTED,
    "REJECTED": MessageState.REJECTED,
}


def stat_for_message_state(state: int) -> str:
    """The receipt `stat:` word for a message_state (ENROUTE for 1)."""
    try:
        return _STAT_OF_STATE[MessageState(state)]
    except ValueError:
        raise ReceiptError(f"message_state {state} has no receipt stat") from None


def message_state_for_stat(stat: str) -> MessageState:
    """The message_state a `stat:` word means; a word no SMSC convention defines is UNKNOWN."""
    return _STATE_OF_STAT.get(stat.strip().upper(), MessageState.UNKNOWN)


# Receipts are made in bursts within the same minute: strftime costs ~10x a dict hit.
_DateKey = tuple[int, int, int, int, int]
_DATE_TEXTS: dict[_DateKey, str] = {}
_DATE_TEXTS_MAX = 1024


def _format_date(value: datetime | None) -> str:
    if value is None:
        return "0000000000"
    key = (value.year, value.month, value.day, value.hour, value.minute)
    cached = _DATE_TEXTS.get(key)
    if cached is None:
        if len(_DATE_TEXTS) >= _DATE_TEXTS_MAX:
            _DATE_TEXTS.clear()
        cached = _DATE_TEXTS[key] = value.strftime("%y%m%d%H%M")
    return cached


def format_receipt(r: Receipt) -> str:
    """`id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:… err:000
    text:…` with the first 20 characters of the text."""
    return receipt_text(r.id, r.sub, r.dlvrd, r.submit_date, r.done_date, r.stat, r.err, r.text)


def receipt_text(
    message_id: str,
    sub: int,
    dlvrd: int,
    submit_date: datetime | None,
    done_date: datetime | None,
    stat: str,
    err: int,
    text: str,
) -> str:
    """format_receipt() from the fields, for a sender that never needs the Receipt itself
    (building the frozen dataclass costs as much as the text)."""
    return (
        f"id:{message_id} sub:{sub:03d} dlvrd:{dlvrd:03d} "
        f"submit date:{_format_date(submit_date)} done date:{_format_date(done_date)} "
        f"stat:{stat} err:{err:03d} text:{text[:20]}"
    )


# Keys in any case, with any spacing around the colon; "submit date" also as submit_date.
_KEY = re.compile(
    r"(?<![A-Za-z0-9_])(id|sub|dlvrd|submit[ _]*date|done[ _]*date|stat|err|text)\s*:\s*",
    re.IGNORECASE,
)
_SPACING = re.compile(r"[ _]+")
_TOKEN = re.compile(r"[^\s]*")
_DIGITS = re.compile(r"\d+")
_HEX_ERR = re.compile(r"(?:0x)?([0-9a-f]+)", re.IGNORECASE)
# The layout format_receipt writes (and most SMSCs send), read in one match. No value may hold
# a colon, so no key can hide inside one: whatever matches reads exactly as the general
# key-by-key parse below would read it; anything else takes that parse.
_CANONICAL = re.compile(
    r"id:([^\s:]+) sub:([0-9]+) dlvrd:([0-9]+) submit date:([0-9]*) done date:([0-9]*) "
    r"stat:([A-Za-z]+) err:([0-9A-Za-z]+)(?: [Tt]ext:\s*(.*))?\Z",
    re.DOTALL,
)


# Receipts arriving together carry the same few dates: a dict hit is ~1/30 of the parse.
_PARSED_DATES: dict[str, datetime | None] = {}
_UNSEEN = datetime.min  # never a parse result (year 1)


def _parse_date(value: str) -> datetime | None:
    if len(value) > 12:
        return _read_date(value)  # only bare dates are kept: the cache stays a few KB
    cached = _PARSED_DATES.get(value, _UNSEEN)
    if cached is not _UNSEEN:
        return cached
    if len(_PARSED_DATES) >= _DATE_TEXTS_MAX:
        _PARSED_DATES.clear()
    parsed = _PARSED_DATES[value] = _read_date(value)
    return parsed


def _read_date(value: str) -> datetime | None:
    digits = _DIGITS.match(value)
    if digits is None:
        return None
    text = digits.group()
    size = len(text)
    if size != 10 and size != 12:
        return None
    # What strptime("%y%m%d%H%M[%S]") reads from fixed-width digits, at a fifth of its cost:
    # two-digit fields only (fewer would leave digits over), years 69-99 in the 1900s.
    year = int(text[0:2])
    try:
        return datetime(
            year + (2000 if year <= 68 else 1900),
            int(text[2:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]) if size == 12 else 0,
        )
    except ValueError:
        # An all-zero or impossible date carries no information, but the receipt still does.
        return None


def _parse_count(value: str, key: str) -> int:
    digits = _DIGITS.match(value)
    if digits is None:
        raise ReceiptError(f"{key}: {value!r} is not a count")
    return int(digits.group())


def _parse_err(value: str) -> int:
    if value.isascii() and value.isdigit():
        return int(value)  # what the rules below make of plain digits, in one step
    # Decimal unless it says otherwise: a 0x prefix or a hex letter makes it hex.
    token = _TOKEN.match(value)
    text = token.group() if token else ""
    hexed = _HEX_ERR.fullmatch(text)
    if hexed is None:
        digits = _DIGITS.match(text)
        if digits is None:
            raise ReceiptError(f"err: {value!r} is not an error code")
        return int(digits.group())
    if text.lower().startswith("0x") or any(c in "abcdefABCDEF" for c in hexed.group(1)):
        return int(hexed.group(1), 16)
    return int(text)


def parse_receipt(text: str | bytes) -> Receipt:
    """Read a receipt's text. id and stat are required; the other fields default to 0, None or
    "" when absent. Tolerates `text:`/`Text:`/none, 12-digit dates, long or hex ids, hex err,
    any key case and spacing, and trailing junk."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("latin-1")
    canonical = _CANONICAL.match(text)
    if canonical is not None:
        rid, sub, dlvrd, submit_date, done_date, stat, err, body = canonical.groups()
        return Receipt(
            id=rid,
            sub=int(sub),
            dlvrd=int(dlvrd),
            submit_date=_parse_date(submit_date),
            done_date=_parse_date(done_date),
            stat=stat.upper(),
            err=_parse_err(err),
            text=body or "",
        )
    return _parse_by_keys(text)


def _parse_by_keys(text: str) -> Receipt:
    """The general parse: every key found anywhere, in any case and spacing."""
    values: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for index, match in enumerate(matches):
        key = _SPACING.sub(" ", match.group(1).lower())
        if key == "text":
            # The text runs to the end (it may itself contain "id:" or "stat:"); whitespace
            # right after the colon is spacing, not text.
            values.setdefault(key, text[match.end() :])
            break
        stop = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        values.setdefault(key, text[match.end() : stop].strip())
    receipt_id = _TOKEN.match(values.get("id", ""))
    stat = _TOKEN.match(values.get("stat", ""))
    if receipt_id is None or not receipt_id.group():
        raise ReceiptError("no id: in the receipt text")
    if stat is None or not stat.group().isalpha():
        raise ReceiptError("no stat: in the receipt text")
    return Receipt(
        id=receipt_id.group(),
        sub=_parse_count(values["sub"], "sub") if "sub" in values else 0,
        dlvrd=_parse_count(values["dlvrd"], "dlvrd") if "dlvrd" in values else 0,
        submit_date=_parse_date(values.get("submit date", "")),
        done_date=_parse_date(values.get("done date", "")),
        stat=stat.group().upper(),
        err=_parse_err(values["err"]) if "err" in values else 0,
        text=values.get("text", ""),
    )
