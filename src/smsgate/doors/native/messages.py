"""POST /api/v1/messages, GET and DELETE /api/v1/messages/{id}, GET /api/v1/messages, POST
/api/v1/quote: sending, reading a message back (with its timeline) or cancelling it, searching
them a page at a time, and pricing a send without sending it.

Translation only: the body becomes the gateway's SendRequest and its answers become JSON; an
Idempotency-Key is handed to the gateway, which decides in the store whether this is a retry.
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Path, Query, Request, Response

from smsgate.domain.money import format_money
from smsgate.domain.status import PartState, Status, public_status
from smsgate.gateway.errors import Rejection
from smsgate.gateway.facade import MAX_PAGE, Gateway
from smsgate.gateway.idempotency import Answer
from smsgate.gateway.quote import Priced
from smsgate.gateway.send_request import SendItem, SendRequest
from smsgate.gateway.timeline import timeline
from smsgate.gateway.views import AccountRecord, MessageCallback, MessageFilter, MessageView

from .auth import Caller
from .errors import REJECTION_CODES
from .models import (
    AcceptedMessage,
    MessageOut,
    MessagePage,
    PartOut,
    QuoteAnswer,
    QuoteLine,
    Rejected,
    SendAnswer,
    SendBody,
    TimelineStep,
)
from .problems import MEDIA_TYPE, Problem, ProblemError, described, problem_body

router = APIRouter(tags=["messages"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Send again with the same key within 24 h: the first answer is returned "
        "and nothing is sent again. The same key with another body is a 422.",
    ),
]
MessageId = Annotated[str, Path(pattern=r"^[0-9]{1,19}$", description="A message id.")]


def _request(body: SendBody) -> tuple[SendRequest, list[str | None]]:
    """The gateway's request, and each item's client_ref in the same order."""
    if body.recipients is not None:
        default = body.text or ""
        items = [SendItem(r.to, r.text or default, r.client_ref) for r in body.recipients]
        refs = [r.client_ref for r in body.recipients]
    else:
        items = [SendItem(phone, body.text or "") for phone in body.to or ()]
        refs = [None] * len(items)
    lifetime = None if body.valid_for is None else body.valid_for / 60
    send_at = None if body.send_at is None else _epoch(body.send_at, "send_at")
    callback = None
    if body.callback_url is not None:
        every = body.callback_events == "all"
        callback = MessageCallback(body.callback_url, body.callback_method, every)
    request = SendRequest(
        body.sender,
        items,
        "api",
        lifetime_minutes=lifetime,
        send_at=send_at,
        callback=callback,
    )
    return request, refs


class _Refs:
    """client_refs by the phone as given, handed out in request order (a phone may repeat)."""

    def __init__(self, request: SendRequest, refs: list[str | None]) -> None:
        self._by_phone: dict[str, list[str | None]] = {}
        for item, ref in zip(request.items, refs, strict=True):
            self._by_phone.setdefault(item.phone, []).append(ref)
        self._taken: dict[str, int] = {}

    def peek(self, phone: str) -> str | None:
        refs = self._by_phone.get(phone, [None])
        return refs[min(self._taken.get(phone, 0), len(refs) - 1)]

    def take(self, phone: str) -> str | None:
        ref = self.peek(phone)
        self._taken[phone] = self._taken.get(phone, 0) + 1
        return ref


def _rejected(rejected: list[tuple[str, Rejection]], refs: _Refs) -> list[Rejected]:
    return [
        Rejected(to=phone, client_ref=refs.take(phone), reason=str(why), code=REJECTION_CODES[why])
        for phone, why in rejected
    ]


def _json(model: object, status: int, response: Response) -> Response:
    assert hasattr(model, "model_dump")
    body = orjson.dumps(model.model_dump(mode="json"))
    return Response(body, status, dict(response.headers), "application/json")


@router.post(
    "/messages",
    status_code=201,
    response_model=SendAnswer,
    summary="Send a text to one or many recipients",
    responses=described(400, 401, 409, 413, 422, 429),
)
async def send(
    body: SendBody,
    account: Caller,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    gateway: Gateway = request.app.state.gateway
    send_request, refs = _request(body)

    async def serve() -> Answer:
        now = time.time()
        outcome, accepted = await gateway.send_priced(account, send_request)
        balance = await gateway.balance(account, own_request=False)
        by_phone = _Refs(send_request, refs)
        # The gateway answers by the phone as given, so refs are matched by phone, in request
        # order: a phone given twice with two refs, its first refused and its second accepted
        # (a duplicate of an earlier send), would see them swapped.
        messages = [_accepted(message_id, p, by_phone.take(p.phone)) for message_id, p in accepted]
        rejected = _rejected(outcome.rejected, by_phone)
        if not messages:
            problem = Problem(
                type="/api/v1/problems/no-recipient-accepted",
                title="No recipient accepted",
                status=422,
                detail="Every recipient was refused; see `rejected`.",
                field="to" if body.to is not None else "recipients",
                rejected=rejected,
            )
            return Answer(422, problem_body(problem))
        answer = SendAnswer(
            messages=messages,
            send_at=body.send_at if body.send_at and body.send_at.timestamp() > now else None,
            rejected=rejected,
            total_price=format_money(sum(p.price for _, p in accepted)),
            currency=balance.currency,
            balance=format_money(balance.balance),
        )
        return Answer(201, orjson.dumps(answer.model_dump(mode="json")))

    if idempotency_key is None:
        answer = await serve()
    else:
        fingerprint = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
        answer = await gateway.idempotent.once(account.id, idempotency_key, fingerprint, serve)
    media = "application/json" if answer.status < 400 else MEDIA_TYPE
    return Response(answer.body, answer.status, dict(response.headers), media)


def _accepted(message_id: int, p: Priced, ref: str | None) -> AcceptedMessage:
    return AcceptedMessage(
        id=str(message_id),
        to=p.phone,
        number=p.number,
        client_ref=ref,
        encoding="GSM-7" if p.encoding == "GSM-7" else "UCS-2",
        parts=p.parts,
        characters=p.characters,
        price=format_money(p.price),
    )


@router.post(
    "/quote",
    response_model=QuoteAnswer,
    summary="Price a send without sending",
    responses=described(400, 401, 413, 422, 429),
)
async def quote(body: SendBody, account: Caller, request: Request, response: Response) -> Response:
    gateway: Gateway = request.app.state.gateway
    send_request, refs = _request(body)
    got = await gateway.price_send(account, send_request)
    by_phone = _Refs(send_request, refs)
    lines = [
        QuoteLine(
            to=p.phone,
            number=p.number,
            client_ref=by_phone.take(p.phone),
            encoding="GSM-7" if p.encoding == "GSM-7" else "UCS-2",
            parts=p.parts,
            characters=p.characters,
            ucs2_characters=list(p.ucs2_characters),
            price_per_part=format_money(p.price_per_part),
            price=format_money(p.price),
        )
        for p in got.recipients
    ]
    answer = QuoteAnswer(
        recipients=lines,
        rejected=_rejected(list(got.rejected), by_phone),
        total_price=format_money(got.total),
        currency=got.currency,
        balance=format_money(got.balance),
        covered=got.covered,
    )
    return _json(answer, 200, response)


@router.get(
    "/messages/{message_id}",
    response_model=MessageOut,
    summary="A message: its status, parts and price",
    responses=described(401, 404, 422, 429),
)
async def message(
    message_id: MessageId, account: Caller, request: Request, response: Response
) -> Response:
    gateway: Gateway = request.app.state.gateway
    view = await gateway.message(account, message_id)
    if view is None:
        raise _not_found(message_id)
    return _json(await _message_out(gateway, account, view), 200, response)


@router.delete(
    "/messages/{message_id}",
    response_model=MessageOut,
    summary="Cancel a message none of whose parts has gone to the operator (money back)",
    responses=described(401, 404, 409, 422, 429),
)
async def cancel(
    message_id: MessageId, account: Caller, request: Request, response: Response
) -> Response:
    gateway: Gateway = request.app.state.gateway
    view = await gateway.message(account, message_id)
    if view is None:
        raise _not_found(message_id)
    if not await gateway.cancel(account, view.id):
        raise ProblemError(
            409,
            "not-cancellable",
            "Not cancellable",
            "A part of this message is with the operator already, or it has ended.",
            field="id",
        )
    cancelled = await gateway.message(account, message_id)
    assert cancelled is not None  # messages are never deleted
    return _json(await _message_out(gateway, account, cancelled), 200, response)


async def _message_out(gateway: Gateway, account: AccountRecord, view: MessageView) -> MessageOut:
    parts = await gateway.message_parts(account, view.id)
    return MessageOut(
        id=str(view.id),
        to=view.phone,
        client_ref=view.client_ref,
        sender=view.sender,
        status=str(view.status),
        created_at=_at(view.created_at),
        done_at=None if view.done_at is None else _at(view.done_at),
        error=view.error,
        price=format_money(sum(p.price for p in parts)),
        currency=account.currency,
        parts=[
            PartOut(
                seq=p.seq,
                status=str(public_status(p.state)),
                state=_state_name(p.state),
                operator_id=p.operator_id,
                price=format_money(p.price),
                submitted_at=None if p.submitted_at is None else _at(p.submitted_at),
                done_at=None if p.done_at is None else _at(p.done_at),
                error=p.error,
            )
            for p in parts
        ],
        events=[
            TimelineStep(
                at=_at(step.at),
                type=step.type,
                part=step.part,
                operator_id=step.operator_id,
                error=step.error,
            )
            for step in timeline(view, parts)
        ],
    )


def _not_found(message_id: str) -> ProblemError:
    return ProblemError(
        404, "not-found", "Not Found", f"No message {message_id} of this account.", field="id"
    )


def _state_name(state: PartState) -> str:
    return state.name


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@router.get(
    "/messages",
    response_model=MessagePage,
    summary="Search the account's messages, newest first, a page at a time",
    responses=described(401, 422, 429),
)
async def search(
    account: Caller,
    request: Request,
    response: Response,
    phone: Annotated[
        str | None,
        Query(max_length=32, description="One recipient, exactly (any form of its number)."),
    ] = None,
    status: Annotated[Status | None, Query(description="A message status.")] = None,
    sender: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[datetime | None, Query(description="Created at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Created before.")] = None,
    cursor: Annotated[
        str | None, Query(max_length=64, description="next_cursor of a page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Response:
    gateway: Gateway = request.app.state.gateway
    number = None
    if phone is not None:
        number = gateway.submitter.number(phone)
        if number is None:
            raise ProblemError(
                422, "invalid-field", "Invalid field", "Not a phone number", field="phone"
            )
    where = MessageFilter(
        number=number,
        status=status,
        sender=sender,
        since=None if since is None else _epoch(since, "since"),
        until=None if until is None else _epoch(until, "until"),
        before_id=None if cursor is None else _cursor_id(cursor),
    )
    # One more than asked: whether a next page exists.
    found = await gateway.search(account, where, limit + 1)
    page = found[:limit]
    # The page's JSON in MessagePage's shape, written directly: the models would validate
    # what the store gave (50 rows a page, the search's hottest work after the query).
    body = {
        "messages": [
            {
                "id": str(m.id),
                "to": m.phone,
                "client_ref": m.client_ref,
                "sender": m.sender,
                "status": str(m.status),
                "created_at": _at(m.created_at),
                "done_at": None if m.done_at is None else _at(m.done_at),
                "error": m.error,
            }
            for m in page
        ],
        "next_cursor": _cursor(page[-1].id) if len(found) > limit else None,
    }
    return Response(
        orjson.dumps(body, option=orjson.OPT_UTC_Z), 200, dict(response.headers), "application/json"
    )


def _epoch(at: datetime, field: str) -> float:
    if at.tzinfo is None:
        raise ProblemError(
            422, "invalid-field", "Invalid field", "A time needs its UTC offset.", field=field
        )
    try:
        return at.timestamp()
    except (OverflowError, OSError, ValueError):
        raise ProblemError(
            422, "invalid-field", "Invalid field", "The time is out of range.", field=field
        ) from None


def _cursor(message_id: int) -> str:
    """Opaque to clients: the last id of the page, so they do not build cursors of their own."""
    return base64.urlsafe_b64encode(b"m%d" % message_id).decode().rstrip("=")


def _cursor_id(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    digits = raw[1:]
    if raw[:1] != b"m" or not digits.isdigit() or len(digits) > 19:
        raise ProblemError(
            422, "invalid-field", "Invalid field", "Not a cursor this API gave.", field="cursor"
        )
    return int(digits)
