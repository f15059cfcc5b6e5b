"""What an SMPP client bind went through: up or down, since when, and the last reason it failed
(connect refused, bind refused with its command_status, dropped, throttled), for /health and
`smsgate admin connectors list`; each change also gives the structured fields of its log line.

It records; it never logs, retries nor changes the bind (smpp/client.py and the connector do),
so the log, /health and the admin CLI give one answer to "why is it not bound?".
"""

from __future__ import annotations

import time
from collections.abc import Callable


class BindHealth:
    def __init__(self, name: str, address: str, *, clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.address = address
        self._clock = clock
        self.up = False
        self.since = clock()  # when `up` last changed (or the client was made)
        self.last_error = ""
        self.last_error_at: float | None = None

    def bound(self) -> dict[str, object]:
        """The bind is up; returns the log line's fields."""
        self.up = True
        self.since = self._clock()
        return {"event": "connector_bound", "link": self.name, "address": self.address}

    def failed(self, event: str, reason: str) -> dict[str, object]:
        """The bind is down or could not come up: `event` names the kind (connector_dropped,
        connector_connect_failed, connector_bind_refused), `reason` says why in the
        operator's words. Returns the log line's fields."""
        if self.up:
            self.since = self._clock()
        self.up = False
        return self.noted(event, reason)

    def noted(self, event: str, reason: str) -> dict[str, object]:
        """Something went wrong on a bind that stays up (throttled): kept as the last error."""
        self.last_error, self.last_error_at = reason, self._clock()
        return {"event": event, "link": self.name, "address": self.address, "reason": reason}

    def describe(self) -> dict[str, object]:
        return {
            "since": self.since,
            "last_error": self.last_error or None,
            "last_error_at": self.last_error_at,
        }
