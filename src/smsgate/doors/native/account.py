"""GET /api/v1/balance and GET /api/v1/senders: what an account may spend and send as."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response

from smsgate.domain.money import format_money
from smsgate.gateway.facade import Gateway

from .auth import Caller
from .models import BalanceOut, SendersOut
from .problems import described

router = APIRouter(tags=["account"])


@router.get(
    "/balance", response_model=BalanceOut, summary="The balance", responses=described(401, 429)
)
async def balance(account: Caller, request: Request, response: Response) -> Response:
    gateway: Gateway = request.app.state.gateway
    got = await gateway.balance(account)
    answer = BalanceOut(
        balance=format_money(got.balance),
        reserved=format_money(got.reserved),
        charged=format_money(got.charged),
        currency=got.currency,
    )
    return Response(
        orjson.dumps(answer.model_dump()), 200, dict(response.headers), "application/json"
    )


@router.get(
    "/senders",
    response_model=SendersOut,
    summary="The sender names the account may use",
    responses=described(401, 429),
)
async def senders(account: Caller, request: Request, response: Response) -> Response:
    gateway: Gateway = request.app.state.gateway
    answer = SendersOut(senders=await gateway.senders(account))
    return Response(
        orjson.dumps(answer.model_dump()), 200, dict(response.headers), "application/json"
    )
