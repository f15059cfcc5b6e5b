"""RFC 9457 problem details: every error of the native API, as application/problem+json with
the field at fault.

Only shapes and status codes live here; which gateway refusal becomes which problem is in
errors.py, so the two stay small.
"""

from __future__ import annotations

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from .models import Rejected

MEDIA_TYPE = "application/problem+json"
# Problem types are relative references, resolved against the request's URL (RFC 9457 3.1.1).
_TYPE_BASE = "/api/v1/problems/"


class FieldError(BaseModel):
    field: str = Field(
        description="Where in the request: a header, a query parameter, or a "
        "body member as a dotted path such as `recipients.2.to`."
    )
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", description="A URI reference naming the problem type.")
    title: str
    status: int
    detail: str | None = None
    field: str | None = Field(default=None, description="The request field at fault, when one is.")
    errors: list[FieldError] | None = Field(default=None, description="Every field at fault.")
    rejected: list[Rejected] | None = Field(
        None, description="Send: why each recipient was refused, when none was accepted."
    )
    retry_after: int | None = Field(
        default=None, description="429: seconds to wait (as Retry-After)."
    )


class ProblemError(Exception):
    """Raised by an endpoint; answered as problem+json by the app's handler."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        field: str | None = None,
        errors: list[FieldError] | None = None,
        rejected: list[Rejected] | None = None,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(
            type=_TYPE_BASE + slug,
            title=title,
            status=status,
            detail=detail,
            field=field,
            errors=errors,
            rejected=rejected,
            retry_after=retry_after,
        )
        self.headers = headers or {}


def problem_body(problem: Problem) -> bytes:
    return orjson.dumps(problem.model_dump(exclude_none=True))


def problem_response(error: ProblemError) -> Response:
    return Response(
        problem_body(error.problem), error.problem.status, error.headers or None, MEDIA_TYPE
    )


def described(*statuses: int) -> dict[int | str, dict[str, object]]:
    """The `responses=` of a route: each problem status it may answer, with the Problem model;
    every route may answer 503 while the database is not answering."""
    return {
        status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": _WHY[status]}
        for status in (*statuses, 503)
    }


_WHY = {
    400: "The request cannot be read.",
    401: "No valid Bearer token.",
    404: "No such message or webhook endpoint of this account.",
    409: "A conflict: a duplicate, the first request with this Idempotency-Key still being "
    "served, or a state that does not allow it (the problem says which).",
    413: "The body is too large.",
    422: "A field is invalid (the problem names it).",
    429: "Too many requests: wait Retry-After seconds.",
    503: "The database is not answering: send again after Retry-After seconds.",
}
