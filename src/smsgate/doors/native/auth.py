"""Who is asking: the Bearer token turned into the account, and the account's request budget
spent (limits.py). Every endpoint of the native API depends on this."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from smsgate.doors.web import note_login
from smsgate.gateway.errors import Unauthorized
from smsgate.gateway.facade import Gateway
from smsgate.gateway.views import AccountRecord

from .limits import ApiLimits, too_many_requests
from .problems import ProblemError

_bearer = HTTPBearer(auto_error=False, description="An account's API token.")


def unauthorized() -> ProblemError:
    return ProblemError(
        401,
        "unauthorized",
        "Unauthorized",
        "A valid Bearer token is required.",
        field="Authorization",
        headers={"WWW-Authenticate": 'Bearer realm="smsgate"'},
    )


async def caller(
    request: Request,
    response: Response,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AccountRecord:
    if credentials is None:
        raise unauthorized()
    gateway: Gateway = request.app.state.gateway
    limits: ApiLimits = request.app.state.limits
    try:
        account = await gateway.authenticate_token(credentials.credentials)
    except Unauthorized:
        raise unauthorized() from None
    note_login(request.scope, account.login)  # the access log's account
    headers, wait = limits.take(account.id)
    if wait is not None:
        raise too_many_requests(headers)
    response.headers.update(headers)
    request.state.budget = headers  # an error answer says what is left too (app.py)
    return account


Caller = Annotated[AccountRecord, Depends(caller)]
