"""The gateway's refusals as the legacy doors' one-line error texts, shared by the HTTP and XML
gateways so both name every refusal the same way (they differ only in how a field is called:
`parameter to` over HTTP, `element to` in XML)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TypeVar

from smsgate.gateway.errors import AllDuplicates, InvalidRequest, RateLimited, Unauthorized
from smsgate.gateway.facade import Gateway
from smsgate.gateway.views import AccountRecord

T = TypeVar("T")

# Gateway field roles → the legacy doors' parameter and element names.
LEGACY_FIELDS: Mapping[str, str] = {"phone": "to", "text": "text", "sender": "from", "id": "smscid"}


class DoorError(Exception):
    """A request a legacy door answers with an error text (and maybe a Retry-After).
    `spent`: the request spent its rate-limit token already (in the gateway)."""

    def __init__(self, text: str, retry_after: float | None = None, *, spent: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.retry_after = retry_after
        self.spent = spent


async def refusal(gateway: Gateway, account: AccountRecord | None, error: DoorError) -> DoorError:
    """What to answer a refused request of `account` with: `error`, after the request spent
    its token if the gateway did not (the rate limit counts every request, a bad one too), or
    the rate limit's error when the token is short."""
    if account is None or error.spent:
        return error
    try:
        await gateway.refused(account)
    except RateLimited as exc:
        return _rate_limited(exc)
    return error


def _rate_limited(exc: RateLimited) -> DoorError:
    return DoorError("Rate limit exceeded: retry later", exc.retry_after, spent=True)


async def call_gateway(
    call: Awaitable[T], field_kind: str, names: Mapping[str, str] = LEGACY_FIELDS
) -> T:
    """Await a gateway call, turning its refusals into DoorError texts (`names`: the door's
    name of each field role)."""
    try:
        return await call
    except InvalidRequest as exc:
        name = names.get(exc.field, exc.field)
        raise DoorError(f"{exc.reason} ({field_kind} {name})", spent=True) from None
    except RateLimited as exc:
        raise _rate_limited(exc) from None
    except AllDuplicates:
        raise DoorError("Doubled SMS in less than 2 minutes", spent=True) from None
    except Unauthorized:
        raise DoorError("Invalid username or credentials", spent=True) from None
