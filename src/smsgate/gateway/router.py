"""Which connector takes a part: the longest matching destination prefix, then its connectors
in order, the first one bound with room in its window.

Routing is a pure choice over the connectors' current state; it never waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from smsgate.record import record


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

    def candidates(self, phone: str) -> tuple[Routable, ...]:
        for length in self._lengths:
            found = self._routes.get(phone[:length])
            if found is not None:
                return found
        return ()

    def pick(self, phone: str) -> Routable | None:
        """The first ready connector for this destination, or None when none is ready now."""
        for connector in self.candidates(phone):
            if connector.ready:
                return connector
        return None

    def has_route(self, phone: str) -> bool:
        return bool(self.candidates(phone))
