"""What both clients do at the httpx boundary: the headers and timeout they configure, and the
translation of httpx answers and failures into `protocol` values.

The only module besides the two clients that imports httpx; it makes no decisions about retries.
"""

from __future__ import annotations

import httpx

from .errors import TransportError
from .protocol import ApiRequest, ApiResponse

USER_AGENT = "smsgate-client/0.1"


def default_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }


def build_request(http: httpx.Client | httpx.AsyncClient, request: ApiRequest) -> httpx.Request:
    content = request.content()
    headers = {"Content-Type": "application/json"} if content else {}
    if request.idempotency_key is not None:
        headers["Idempotency-Key"] = request.idempotency_key
    return http.build_request(
        request.method, request.path, params=request.query, content=content, headers=headers
    )


def to_response(response: httpx.Response) -> ApiResponse:
    return ApiResponse(response.status_code, response.headers, response.content)


def to_transport_error(exc: httpx.TransportError, request: httpx.Request) -> TransportError:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    detail = str(exc) or type(exc).__name__
    return TransportError(f"request to {request.url} {kind}: {detail}")
