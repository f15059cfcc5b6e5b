"""A message's callback as the HTTP, JSON and XML doors take it: the URL (dlr_url,
callback_url), its method and which statuses to push, read from the request's strings.

Only the options' spelling is judged here; whether the URL may be called (scheme, length,
private addresses) is the gateway's submit check, so every door refuses the same URLs.
"""

from __future__ import annotations

from smsgate.domain import dlr_mask
from smsgate.gateway.views import MessageCallback

_METHODS = {"": "POST", "post": "POST", "get": "GET"}


class CallbackOptionError(ValueError):
    """An option the door names in its own error format; `option` is "method" or "events"."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__(reason)
        self.option = option
        self.reason = reason


def callback_of(url: str, method: str = "", events: str = "") -> MessageCallback | None:
    """The callback these strings ask for; None when no URL is given."""
    url = url.strip()
    if not url:
        if method.strip() or events.strip():
            raise CallbackOptionError("url", "A callback option needs a callback URL")
        return None
    chosen = _METHODS.get(method.strip().lower())
    if chosen is None:
        raise CallbackOptionError("method", "Callback method must be GET or POST")
    try:
        mask = dlr_mask.parse(events)  # "final" (the default), "all" or Kannel's dlr-mask
    except dlr_mask.BadMask as exc:
        raise CallbackOptionError("events", str(exc)) from None
    return MessageCallback(url, chosen, dlr_mask.every_status(mask), mask)
