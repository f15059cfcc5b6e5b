"""One HTTP delivery attempt as values: the request to send (built by signing or by the
callback form) and what it came to (the record the sender returns, the delivery policy judges
and the store logs: status, latency, error text).

Values only; they know nothing of httpx, of the store or of retries.
"""

from __future__ import annotations

from enum import StrEnum

from smsgate.immutable import record


@record
class OutgoingRequest:
    """Exactly what goes on the wire; a retry sends the same body (a webhook's headers are
    signed again per attempt, see signing.py)."""

    method: str  # "POST" or "GET"
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


class Failure(StrEnum):
    """Why an attempt got no HTTP response."""

    TIMEOUT = "timeout"  # connect, read or total deadline passed
    CONNECT = "connect"  # refused, unreachable, DNS failure, TLS handshake
    TRANSPORT = "transport"  # the connection broke or the peer spoke broken HTTP
    URL_REFUSED = "url_refused"  # an unsafe URL, or a host that resolved to an unsafe address


@record
class Attempt:
    """`status` is set when a response came, `failure` when none did; `latency` is seconds from
    the start of the attempt to its end; `error` is the text to log (None on a 2xx)."""

    status: int | None
    latency: float
    error: str | None = None
    failure: Failure | None = None
    retry_after: str | None = None  # the response's Retry-After header, as sent
    body: bytes = b""  # the start of the response body, at most the sender's cap
    truncated: bool = False  # the body went on past the cap and was not read

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300
