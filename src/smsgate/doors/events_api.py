"""GET /api/v1/events?after=SEQ&limit=N (Bearer token): an account's event log replayed in
order, so a customer that was down can catch up without webhooks. JSON answers; a missing or
bad token is a 401 and a bad parameter a 400, both as {"error": ..., "field": ...}.

A small route on the bare ASGI app until the native API (/api/v1/ on its framework) takes it
over; it reads only through the gateway. Each request spends one of the account's native API
requests (native/limits.py, shared with /api/v1's other paths): past them, a 429 problem.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import orjson

from smsgate.gateway.errors import InvalidRequest, Unauthorized
from smsgate.gateway.facade import Gateway
from smsgate.gateway.views import AccountEvent

from .native.limits import ApiLimits, too_many_requests
from .native.problems import MEDIA_TYPE, problem_body
from .web import Route, WebReply, WebRequest

PATH = "/api/v1/events"
DEFAULT_LIMIT = 100


def routes(gateway: Gateway, limits: ApiLimits) -> list[Route]:
    async def events(request: WebRequest) -> WebReply:
        try:
            account = await gateway.authenticate_token(_bearer(request))
        except Unauthorized:
            return _error(401, "A valid API token is required (Authorization: Bearer ...)")
        budget, wait = limits.take(account.id)
        if wait is not None:
            refused = too_many_requests(budget)
            return WebReply(problem_body(refused.problem), 429, MEDIA_TYPE, refused.headers)
        try:
            query = parse_qs(request.query_string.decode("latin-1"), keep_blank_values=True)
            after = _integer(query, "after", 0)
            limit = _integer(query, "limit", DEFAULT_LIMIT)
            found = await gateway.events(account, after, limit)
        except InvalidRequest as exc:
            return _error(400, exc.reason, exc.field)
        last = found[-1].seq if found else after
        body = {"events": [_event(e) for e in found], "next_after": last}
        return WebReply(orjson.dumps(body), headers=budget)

    return [Route(PATH, events, frozenset({"GET"}))]


def _bearer(request: WebRequest) -> str:
    scheme, _, token = request.header(b"authorization").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


def _integer(query: dict[str, list[str]], name: str, default: int) -> int:
    given = query.get(name)
    if not given:
        return default
    text = given[-1].strip()
    if not text.isascii() or not text.isdigit():
        raise InvalidRequest(name, f"{name} must be a whole number")
    return int(text)


def _event(event: AccountEvent) -> dict[str, object]:
    return {
        "seq": event.seq,
        "type": event.type,
        "at": event.at,
        "message_id": event.message_id,
        "part_id": event.part_id,
        "data": None if event.data is None else orjson.loads(event.data),
    }


def _error(status: int, message: str, field: str | None = None) -> WebReply:
    body: dict[str, object] = {"error": message}
    if field is not None:
        body["field"] = field
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return WebReply(orjson.dumps(body), status, headers=headers)
