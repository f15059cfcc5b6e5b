"""GET /api/v1/events and GET /api/v1/inbound: what happened to the account, to catch up
without webhooks — its event log replayed in order (`after` a seq), and the SMS it received
(`after` an id), oldest first, a page at a time. A client pages with the `next_after` of the
last answer and misses nothing.

Translation only: the gateway reads; the answers keep the shapes these paths had on the bare
router before they moved here (numbers for ids, epoch seconds for times), which the SDK reads.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from smsgate.gateway.facade import MAX_EVENTS, Gateway
from smsgate.gateway.views import AccountEvent, InboundRecord

from .auth import Caller
from .problems import ProblemError, described
from .replay_models import EventPage, InboundPage

router = APIRouter(tags=["replay"])

MAX_INBOUND = 1000
MAX_SEQ = 2**63 - 1

After = Annotated[
    int, Query(ge=0, le=MAX_SEQ, description="The last seq (events) or id (inbound) seen.")
]


def _json(body: dict[str, object], response: Response) -> Response:
    return Response(orjson.dumps(body), 200, dict(response.headers), "application/json")


@router.get(
    "/events",
    response_model=EventPage,
    summary="The account's events after a seq, oldest first",
    description="Every change of the account's messages (accepted, submitted, refused, "
    "receipt, expired, cancelled, refunded) and every SMS received, numbered by seq without "
    "gaps. Pass the answer's `next_after` as `after` for the next page.",
    responses=described(401, 422, 429),
)
async def events(
    account: Caller,
    request: Request,
    response: Response,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 100,
) -> Response:
    gateway: Gateway = request.app.state.gateway
    found = await gateway.events(account, after, limit)
    last = found[-1].seq if found else after
    return _json({"events": [_event(e) for e in found], "next_after": last}, response)


def _event(event: AccountEvent) -> dict[str, object]:
    return {
        "seq": event.seq,
        "type": event.type,
        "at": event.at,
        "message_id": event.message_id,
        "part_id": event.part_id,
        "data": None if event.data is None else orjson.loads(event.data),
    }


@router.get(
    "/inbound",
    response_model=InboundPage,
    summary="SMS received for the account after an id, oldest first",
    description="Pass the answer's `next_after` as `after` for the next page.",
    responses=described(401, 422, 429),
)
async def inbound(
    account: Caller,
    request: Request,
    response: Response,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_INBOUND)] = 100,
) -> Response:
    # A filter this path does not have (since=, phone=) must not pass for one that matched.
    unknown = sorted(set(request.query_params) - {"after", "limit"})
    if unknown:
        raise ProblemError(
            422,
            "invalid-field",
            "Invalid field",
            f"Unknown parameter {unknown[0]!r}; use after and limit.",
            field=unknown[0],
        )
    gateway: Gateway = request.app.state.gateway
    found = await gateway.inbound(account, after, limit)
    last = found[-1].id if found else after
    return _json({"data": [_inbound(m) for m in found], "next_after": last}, response)


def _inbound(m: InboundRecord) -> dict[str, object]:
    return {
        "id": m.id,
        "from": m.source,
        "to": m.destination,
        "text": m.text,
        "keyword": m.keyword or None,
        "parts": m.parts,
        "total": m.total,
        "complete": m.complete,
        "received_at": m.received_at,
    }
