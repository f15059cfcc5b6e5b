"""A log line per kind of fault at most every few seconds, with a count of the ones it held back:
a window of 64 timed-out requests, or a route failing over part after part, is one line.

A leaf helper (it imports nothing of ours): the SMPP client and the gateway both use it. It is
not for events that must each be seen (a lost lease, a failed store write).
"""

from __future__ import annotations

import logging
import time


class LimitedLog:
    def __init__(self, logger: logging.Logger, every: float = 5.0) -> None:
        self.logger = logger
        self.every = every
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(
        self,
        kind: str,
        message: str,
        *args: object,
        extra: dict[str, object] | None = None,
        exc_info: BaseException | None = None,
    ) -> None:
        """`extra`: the event's structured fields (smsgate/logs.py writes them); `exc_info`:
        an exception whose traceback goes with the line (one per window, like the line)."""
        now = time.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < self.every:
            self._held[kind] = self._held.get(kind, 0) + 1
            return
        self._last[kind] = now
        held = self._held.pop(kind, 0)
        if held:
            message += " (and %d more like it since the last such line)"
            args = (*args, held)
        self.logger.warning(message, *args, extra=extra, exc_info=exc_info)
