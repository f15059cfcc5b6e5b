"""The native API's request and response bodies, as pydantic models: they validate what comes
in and describe both directions in the OpenAPI document.

Shapes only; no gateway calls and no rules beyond what a field must look like (the gateway
decides sender names, numbers, prices and lengths).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from smsgate.gateway.send_request import MAX_ITEMS
from smsgate.gateway.timeline import StepType

MAX_TEXT = 2_000  # characters; the gateway refuses more than its parts limit anyway
MAX_VALID_FOR = 7 * 24 * 3600
MAX_URL = 2_000  # characters, as the gateway's callback URL check allows


def _unicode_text(value: str) -> str:
    """Text the store can keep on every engine: valid Unicode (no lone surrogate escape) and
    no NUL, which PostgreSQL refuses in text."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode (a lone UTF-16 surrogate escape)") from None
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# The lengths are the string's own constraints, before the Unicode check: on the checked
# type pydantic would count "items" in its error instead of characters.
_Unicode = AfterValidator(_unicode_text)
Text = Annotated[str, _Unicode]
Phone = Annotated[
    str,
    Field(min_length=1, max_length=32, description="A phone number, international or local."),
    _Unicode,
]
MessageText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), _Unicode]
SenderName = Annotated[str, Field(min_length=1, max_length=32), _Unicode]
CallbackUrl = Annotated[str, Field(min_length=1, max_length=MAX_URL), _Unicode]
ClientRef = Annotated[
    str,
    Field(max_length=64, description="Your reference for this recipient, echoed back."),
    _Unicode,
]
Money = Annotated[str, Field(description="A decimal amount in the account's currency.")]
Encoding = Literal["GSM-7", "UCS-2"]


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Phone
    text: MessageText | None = Field(default=None, description="This recipient's own text.")
    client_ref: ClientRef | None = None


class SendBody(BaseModel):
    """One text to many numbers (`to`), or texts per recipient (`recipients`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"sender": "smsgate", "to": ["380501234567"], "text": "Your code is 1234"},
                {
                    "sender": "smsgate",
                    "recipients": [
                        {"to": "380501234567", "text": "Привіт, Олено", "client_ref": "o-1"},
                        {"to": "380671234567", "text": "Hi Bob", "client_ref": "o-2"},
                    ],
                    "valid_for": 3600,
                },
            ]
        },
    )

    sender: SenderName = Field(description="A sender name of the account (GET /api/v1/senders).")
    text: MessageText | None = Field(
        default=None, description="The text, for every recipient without a text of its own."
    )
    to: list[Phone] | None = Field(default=None, min_length=1, max_length=MAX_ITEMS)
    recipients: list[Recipient] | None = Field(default=None, min_length=1, max_length=MAX_ITEMS)
    send_at: datetime | None = Field(
        default=None,
        description="Send at this time (with its UTC offset), at most 30 days ahead; a time "
        "gone by sends at once. Cancel before then with DELETE /api/v1/messages/{id}.",
    )
    valid_for: int | None = Field(
        default=None,
        ge=60,
        le=MAX_VALID_FOR,
        description="Seconds the operator may keep trying; default one day.",
    )
    callback_url: CallbackUrl | None = Field(
        default=None,
        description="Where each message's status is pushed (https; the gateway refuses "
        "private and loopback addresses). For events of every message, use webhooks.",
    )
    callback_method: Literal["POST", "GET"] = Field(
        default="POST", description="POST: a form body; GET: the same fields as a query."
    )
    callback_events: Literal["final", "all"] = Field(
        default="final", description="final: the final status only; all: every change."
    )

    @model_validator(mode="after")
    def _one_way_to_address(self) -> SendBody:
        if (self.to is None) == (self.recipients is None):
            raise ValueError("give either `to` or `recipients`, not both and not neither")
        if self.to is not None and self.text is None:
            raise ValueError("`text` is required with `to`")
        recipients = self.recipients or []
        if self.text is None and any(r.text is None for r in recipients):
            raise ValueError("every recipient needs a `text` when there is no `text`")
        return self


class AcceptedMessage(BaseModel):
    id: str = Field(description="The message id (digits).")
    to: str = Field(description="The recipient as given.")
    number: str = Field(description="The number it goes to, international digits.")
    client_ref: str | None = None
    status: Literal["ENROUTE"] = "ENROUTE"
    encoding: Encoding
    parts: int
    characters: int = Field(description="Septets (GSM-7) or UTF-16 units (UCS-2).")
    price: Money


class Rejected(BaseModel):
    to: str
    client_ref: str | None = None
    reason: str
    code: str


class SendAnswer(BaseModel):
    messages: list[AcceptedMessage]
    send_at: datetime | None = Field(description="When they will be sent; null: at once.")
    rejected: list[Rejected]
    total_price: Money
    currency: str
    balance: Money = Field(description="What the account may still spend, after this send.")


class QuoteLine(BaseModel):
    to: str
    number: str
    client_ref: str | None = None
    encoding: Encoding
    parts: int
    characters: int
    ucs2_characters: list[str] = Field(
        description="The characters that force UCS-2 (70 per part instead of 160)."
    )
    price_per_part: Money
    price: Money


class QuoteAnswer(BaseModel):
    recipients: list[QuoteLine]
    rejected: list[Rejected]
    total_price: Money
    currency: str
    balance: Money
    covered: bool = Field(description="Whether the balance covers the total.")


class PartOut(BaseModel):
    seq: int
    status: str = Field(description="ENROUTE, DELIVRD, EXPIRED, UNDELIV or REJECTD.")
    state: str = Field(description="Finer: QUEUED, SENDING, SUBMITTED, or the final status.")
    operator_id: str | None
    price: Money
    submitted_at: datetime | None
    done_at: datetime | None
    error: int


class TimelineStep(BaseModel):
    at: datetime
    type: StepType
    part: int | None = Field(description="The part's seq; null for the message as a whole.")
    operator_id: str | None = Field(description="submitted: the operator's id of the part.")
    error: int | None = Field(description="An end's error code, when it has one.")


class MessageOut(BaseModel):
    id: str
    to: str
    client_ref: str | None = Field(description="Your reference, as sent.")
    sender: str
    status: str
    created_at: datetime
    done_at: datetime | None
    error: int
    price: Money
    currency: str
    parts: list[PartOut]
    events: list[TimelineStep] = Field(
        description="The message's life in time order: accepted, each part submitted (with "
        "the operator's id) and each part's end."
    )


class BalanceOut(BaseModel):
    balance: Money = Field(description="What the account may spend.")
    reserved: Money = Field(description="Held for parts not yet with the operator.")
    charged: Money = Field(description="Spent on parts the operator took.")
    currency: str


class SendersOut(BaseModel):
    senders: list[str]


class MessageSummary(BaseModel):
    id: str
    to: str
    client_ref: str | None = Field(description="Your reference, as sent.")
    sender: str
    status: str
    created_at: datetime
    done_at: datetime | None
    error: int


class MessagePage(BaseModel):
    messages: list[MessageSummary] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


LedgerType = Literal["top_up", "adjustment", "charge", "refund", "carried", "opening"]


class LedgerLineOut(BaseModel):
    type: LedgerType = Field(
        description="top_up: money added; adjustment: taken back by the operator; charge: a "
        "message accepted (its parts' price); refund: parts that ended without the operator "
        "taking them; carried: charges of messages deleted by retention, folded together; "
        "opening: the balance when the ledger began."
    )
    amount: Money = Field(description="Signed: what this line did to the balance.")
    at: datetime
    message_id: str | None = Field(description="The message of a charge or refund.")
    balance_after: Money = Field(description="The balance right after this line.")


class LedgerPageOut(BaseModel):
    entries: list[LedgerLineOut] = Field(description="Newest first.")
    currency: str
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class UsageCounts(BaseModel):
    messages: int
    parts: int
    cost: Money = Field(description="What they cost, less refunds.")


class UsageRowOut(UsageCounts):
    key: str = Field(
        description="The UTC day (YYYY-MM-DD), the status, or the destination's ISO country "
        "code (ZZ: none), as grouped."
    )


class UsageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", description="The first day, YYYY-MM-DD (UTC).")
    to: str = Field(description="The last day, included.")
    group: Literal["day", "status", "country"]
    rows: list[UsageRowOut]
    total: UsageCounts
    currency: str
