"""`GET /api/v1/inbound?after=ID&limit=N` (Bearer token): the account's inbound SMS (MO) with
ids above `after`, oldest first, in JSON, so a customer polls with the last id it saw and
misses none. Errors are JSON too: {"error": {"code": ..., "message": ...}}.

Reads only; routing and storing inbound SMS are the gateway's (gateway/inbound_intake.py).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import orjson

from smsgate.gateway.errors import Unauthorized
from smsgate.gateway.facade import Gateway
from smsgate.gateway.views import InboundRecord

from .native.limits import ApiLimits, too_many_requests
from .native.problems import MEDIA_TYPE, problem_body
from .web import Route, WebReply, WebRequest

PATH = "/api/v1/inbound"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class _BadQuery(ValueError):
    pass


def routes(gateway: Gateway, limits: ApiLimits) -> list[Route]:
    async def inbound(request: WebRequest) -> WebReply:
        try:
            account = await gateway.authenticate_token(_bearer(request))
            after, limit = _query(request.query_string)
        except Unauthorized:
            return error("unauthorized", "A valid Bearer token is required.", 401)
        except _BadQuery as exc:
            return error("invalid_request", str(exc), 400)
        # One of the account's native API requests (native/limits.py): past them, a 429 problem.
        budget, wait = limits.take(account.id)
        if wait is not None:
            refused = too_many_requests(budget)
            return WebReply(problem_body(refused.problem), 429, MEDIA_TYPE, refused.headers)
        found = await gateway.inbound(account, after, limit)
        body = {
            "data": [_item(m) for m in found],
            "next_after": found[-1].id if found else after,
        }
        return WebReply(orjson.dumps(body), headers=budget)

    return [Route(PATH, inbound, frozenset({"GET"}))]


def error(code: str, message: str, status: int, headers: dict[str, str] | None = None) -> WebReply:
    body = orjson.dumps({"error": {"code": code, "message": message}})
    return WebReply(body, status, headers=headers)


def _item(m: InboundRecord) -> dict[str, object]:
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


def _bearer(request: WebRequest) -> str:
    scheme, _, token = request.header(b"authorization").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


def _query(raw: bytes) -> tuple[int, int]:
    try:
        query = parse_qs(raw.decode("ascii"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise _BadQuery("The query string is not ASCII.") from None
    unknown = sorted(set(query) - {"after", "limit"})
    if unknown:
        raise _BadQuery(f"Unknown parameter {unknown[0]!r}; use after and limit.")
    after = _integer(query, "after", 0, 0, 2**63 - 1)
    limit = _integer(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    return after, limit


def _integer(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    values = query.get(name)
    if not values:
        return default
    text = values[-1].strip()
    if not text.isdigit() or not text.isascii() or len(text) > 19 or not low <= int(text) <= high:
        raise _BadQuery(f"{name} must be a whole number from {low} to {high}.")
    return int(text)
