"""/api/v1/webhooks: the account's webhook endpoints — list, add (the signing secret shown
once), read, remove, rotate the secret and finish the rotation, enable one disabled after a
day of failures — and the deliveries given up, listed and sent again.

Translation only: the gateway's WebhookSetup decides (URL safety, event types, secrets, the
states that allow each step); its endpoints become JSON here, never with a secret but in the
answers that make one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from smsgate.gateway.facade import Gateway
from smsgate.gateway.views import WebhookEndpoint
from smsgate.gateway.webhook_setup import MAX_DEAD_LETTERS, FailedWebhook

from .auth import Caller
from .problems import ProblemError, described
from .webhook_models import (
    FailedDeliveries,
    FailedDeliveryOut,
    RedeliverBody,
    Redelivered,
    WebhookBody,
    WebhookList,
    WebhookOut,
)

router = APIRouter(tags=["webhooks"])

EndpointId = Annotated[str, Path(pattern=r"^[0-9]{1,18}$", description="A webhook endpoint's id.")]


def _at(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _out(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> WebhookOut:
    created = _at(endpoint.created_at)
    assert created is not None
    return WebhookOut(
        id=str(endpoint.id),
        url=endpoint.url,
        events=list(endpoint.event_types),
        enabled=endpoint.enabled,
        rotating=endpoint.old_secret is not None,
        created_at=created,
        failing_since=_at(endpoint.failing_since),
        disabled_at=_at(endpoint.disabled_at),
        disabled_reason=endpoint.disabled_reason,
        secret=endpoint.secret if with_secret else None,
    )


def _json(model: object, status: int, response: Response) -> Response:
    assert hasattr(model, "model_dump")
    body = orjson.dumps(model.model_dump(mode="json"))
    return Response(body, status, dict(response.headers), "application/json")


def _not_found(endpoint_id: str) -> ProblemError:
    return ProblemError(
        404,
        "not-found",
        "Not Found",
        f"No webhook endpoint {endpoint_id} of this account.",
        field="id",
    )


def _found(endpoint: WebhookEndpoint | None, endpoint_id: str) -> WebhookEndpoint:
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint


@router.get(
    "/webhooks",
    response_model=WebhookList,
    summary="The account's webhook endpoints and their health",
    responses=described(401, 429),
)
async def endpoints(account: Caller, request: Request, response: Response) -> Response:
    gateway: Gateway = request.app.state.gateway
    found = await gateway.webhooks.endpoints(account.id)
    return _json(WebhookList(webhooks=[_out(e) for e in found]), 200, response)


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookOut,
    summary="Send the account's events to a URL, signed with the secret in the answer",
    responses=described(400, 401, 409, 413, 422, 429),
)
async def add(body: WebhookBody, account: Caller, request: Request, response: Response) -> Response:
    gateway: Gateway = request.app.state.gateway
    endpoint = await gateway.webhooks.add(account.id, body.url, body.events, body.secret)
    return _json(_out(endpoint, with_secret=True), 201, response)


@router.get(
    "/webhooks/failed",
    response_model=FailedDeliveries,
    summary="Deliveries given up after their retries, oldest first",
    responses=described(401, 422, 429),
)
async def failed(
    account: Caller,
    request: Request,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=MAX_DEAD_LETTERS)] = 100,
) -> Response:
    gateway: Gateway = request.app.state.gateway
    found = await gateway.webhooks.failed(account.id, limit)
    return _json(FailedDeliveries(deliveries=[_failed(f) for f in found]), 200, response)


def _failed(f: FailedWebhook) -> FailedDeliveryOut:
    created, dead = _at(f.created_at), _at(f.dead_at)
    assert created is not None and dead is not None
    return FailedDeliveryOut(
        id=str(f.id),
        endpoint_id=None if f.endpoint_id is None else str(f.endpoint_id),
        webhook_id=f.webhook_id,
        type=f.type,
        created_at=created,
        dead_at=dead,
        attempts=f.attempts,
        last_error=f.last_error,
    )


@router.post(
    "/webhooks/failed/redeliver",
    response_model=Redelivered,
    summary="Send failed deliveries again (all when no ids), each from a fresh 24 h of retries",
    responses=described(400, 401, 409, 413, 422, 429),
)
async def redeliver(
    account: Caller, request: Request, response: Response, body: RedeliverBody | None = None
) -> Response:
    gateway: Gateway = request.app.state.gateway
    ids = None if body is None or body.ids is None else [int(i) for i in body.ids]
    done = await gateway.webhooks.redeliver(account.id, ids)
    return _json(Redelivered(redelivered=[str(i) for i in done]), 200, response)


@router.get(
    "/webhooks/{endpoint_id}",
    response_model=WebhookOut,
    summary="A webhook endpoint and its health",
    responses=described(401, 404, 422, 429),
)
async def endpoint(
    endpoint_id: EndpointId, account: Caller, request: Request, response: Response
) -> Response:
    gateway: Gateway = request.app.state.gateway
    found = await gateway.webhooks.endpoint(account.id, int(endpoint_id))
    return _json(_out(_found(found, endpoint_id)), 200, response)


@router.delete(
    "/webhooks/{endpoint_id}",
    status_code=204,
    response_class=Response,
    summary="Stop sending to an endpoint (its pending deliveries are given up)",
    responses=described(401, 404, 422, 429),
)
async def remove(
    endpoint_id: EndpointId, account: Caller, request: Request, response: Response
) -> Response:
    gateway: Gateway = request.app.state.gateway
    if not await gateway.webhooks.remove(account.id, int(endpoint_id)):
        raise _not_found(endpoint_id)
    return Response(status_code=204, headers=dict(response.headers))


@router.post(
    "/webhooks/{endpoint_id}/rotate-secret",
    response_model=WebhookOut,
    summary="Sign with a new secret (in the answer) and the old one until finish-rotation",
    responses=described(401, 404, 409, 422, 429),
)
async def rotate(
    endpoint_id: EndpointId, account: Caller, request: Request, response: Response
) -> Response:
    gateway: Gateway = request.app.state.gateway
    found = await gateway.webhooks.rotate(account.id, int(endpoint_id))
    return _json(_out(_found(found, endpoint_id), with_secret=True), 200, response)


@router.post(
    "/webhooks/{endpoint_id}/finish-rotation",
    response_model=WebhookOut,
    summary="Stop signing with the previous secret",
    responses=described(401, 404, 409, 422, 429),
)
async def finish_rotation(
    endpoint_id: EndpointId, account: Caller, request: Request, response: Response
) -> Response:
    gateway: Gateway = request.app.state.gateway
    found = await gateway.webhooks.finish_rotation(account.id, int(endpoint_id))
    return _json(_out(_found(found, endpoint_id)), 200, response)


@router.post(
    "/webhooks/{endpoint_id}/enable",
    response_model=WebhookOut,
    summary="Enable an endpoint disabled after failing, forgetting its failures",
    responses=described(401, 404, 422, 429),
)
async def enable(
    endpoint_id: EndpointId, account: Caller, request: Request, response: Response
) -> Response:
    gateway: Gateway = request.app.state.gateway
    found = await gateway.webhooks.enable(account.id, int(endpoint_id))
    return _json(_out(_found(found, endpoint_id)), 200, response)
