"""Which connector takes a part: the longest matching destination prefix, then its connectors
in order, the first one bound with room in its window.

Routing is a pure choice over the connectors' current state; it never waits. When a route's
first connector is not ready (down, or paused by throttling) and a later one takes its parts,
that failover is logged (at most once every few seconds per pair).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from smsgate.immutable import record
from smsgate.log_limit import LimitedLog

log = logging.getLogger(__name__)


class Routable(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def ready(self) -> bool: ...


@record
class Route:
    prefix: str
    connectors: tuple[str, ...]


class Router:
    def __init__(self, routes: Sequence[Route], connectors: Sequence[Routable]) -> None:
        by_name = {c.name: c for c in connectors}
        unknown = {n for r in routes for n in r.connectors if n not in by_name}
        if unknown:
            raise ValueError(f"routes name unknown connectors: {', '.join(sorted(unknown))}")
        if not routes:
            routes = [Route("", tuple(by_name))]
        self._routes = {
            r.prefix: tuple(by_name[n] for n in r.connectors)
            for r in sorted(routes, key=lambda r: len(r.prefix))
        }
        self._lengths = sorted({len(p) for p in self._routes}, reverse=True)
        self._limited_log = LimitedLog(log)

    def candidates(self, phone: str) -> tuple[Routable, ...]:
        for length in self._lengths:
            found = self._routes.get(phone[:length])
            if found is not None:
                return found
        return ()

    def pick(self, phone: str) -> Routable | None:
        """The first ready connector for this destination, or None when none is ready now."""
        candidates = self.candidates(phone)
        for connector in candidates:
            if connector.ready:
                if connector is not candidates[0]:
                    self._failed_over(candidates[0], connector)
                return connector
        return None

    def _failed_over(self, first: Routable, taker: Routable) -> None:
        self._limited_log.warning(
            f"{first.name}>{taker.name}",
            "route failover: connector %s is not ready (down or paused), %s takes its parts",
            first.name,
            taker.name,
        )

    def has_route(self, phone: str) -> bool:
        return bool(self.candidates(phone))
