from dataclasses import dataclass

import pytest

from smsgate.gateway.router import Route, Router


@dataclass
class Conn:
    name: str
    ready: bool = True


def test_longest_prefix_wins_and_fallback_is_in_order() -> None:
    a, b, c = Conn("a"), Conn("b"), Conn("c")
    router = Router(
        [Route("", ("c",)), Route("380", ("a", "b")), Route("38067", ("b",))], [a, b, c]
    )
    assert router.pick("380501234567") is a
    assert router.pick("380671234567") is b
    assert router.pick("48501234567") is c
    a.ready = False
    assert router.pick("380501234567") is b


def test_no_ready_connector_is_none_but_the_route_exists() -> None:
    a = Conn("a", ready=False)
    router = Router([Route("380", ("a",))], [a])
    assert router.pick("380501234567") is None
    assert router.has_route("380501234567")
    assert not router.has_route("48501234567")


def test_without_routes_every_connector_serves_everything() -> None:
    a = Conn("a")
    assert Router([], [a]).pick("15551234567") is a


def test_a_route_naming_an_unknown_connector_is_refused() -> None:
    with pytest.raises(ValueError, match="nope"):
        Router([Route("", ("nope",))], [Conn("a")])
