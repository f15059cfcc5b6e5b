"""The ASGI app: the three HTTP doors under one base URL, plus /health and /metrics.

Plain Starlette: the SMS Club doors are the hot path, and every microsecond of framework is
paid per request. An unexpected error answers in the door's own format, never a bare 500 page.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from smsgate.gateway.metrics import REGISTRY
from smsgate.gateway.service import Gateway

from . import http_gateway, json_api, xml_gateway

log = logging.getLogger(__name__)

HealthProbe = Callable[[], Awaitable[dict[str, object]]]


def build_app(gateway: Gateway, health: HealthProbe, *, max_body: int = 1_000_000) -> ASGIApp:
    async def health_endpoint(request: Request) -> Response:
        report = await health()
        status = 200 if report.get("ok", True) else 503
        return Response(orjson.dumps(report), status, media_type="application/json")

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        *json_api.routes(gateway, max_body=max_body),
        *http_gateway.routes(gateway),
        *xml_gateway.routes(gateway),
        Route("/health", health_endpoint, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    # Starlette answers an unhandled exception through this handler (then re-raises it for
    # the server to log), so a failure still answers in the door's own format.
    return Starlette(routes=routes, exception_handlers={Exception: _unhandled})


async def _unhandled(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return _error_for(request.url.path)


def _error_for(path: str) -> Response:
    """The door's own error shape for an error no endpoint handled."""
    if path.startswith("/xml"):
        body = xml_gateway.error_reply("Internal server error")
        return Response(body, 200, media_type=xml_gateway.MEDIA_TYPE)
    if path.startswith(("/http", "/token")):
        return Response("Internal server error", 200, media_type=http_gateway.MEDIA_TYPE)
    return json_api.top_level_error(
        "Internal Server Error", "An internal server error occurred.", 500
    )
