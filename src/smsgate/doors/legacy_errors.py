"""The gateway's refusals as the legacy doors' one-line error texts, shared by the HTTP and XML
gateways so both name every refusal the same way (they differ only in how a field is called:
`parameter to` over HTTP, `element to` in XML)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TypeVar

from smsgate.gateway.errors import AllDuplicates, InvalidRequest, RateLimited, Unauthorized

T = TypeVar("T")

# Gateway field roles → the legacy doors' parameter and element names.
LEGACY_FIELDS: Mapping[str, str] = {"phone": "to", "text": "text", "sender": "from", "id": "smscid"}


class DoorError(Exception):
    """A request a legacy door answers with an error text (and maybe a Retry-After)."""

    def __init__(self, text: str, retry_after: float | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.retry_after = retry_after


async def call_gateway(
    call: Awaitable[T], field_kind: str, names: Mapping[str, str] = LEGACY_FIELDS
) -> T:
    """Await a gateway call, turning its refusals into DoorError texts (`names`: the door's
    name of each field role)."""
    try:
        return await call
    except InvalidRequest as exc:
        name = names.get(exc.field, exc.field)
        raise DoorError(f"{exc.reason} ({field_kind} {name})") from None
    except RateLimited as exc:
        raise DoorError("Rate limit exceeded: retry later", exc.retry_after) from None
    except AllDuplicates:
        raise DoorError("Doubled SMS in less than 2 minutes") from None
    except Unauthorized:
        raise DoorError("Invalid username or credentials") from None
