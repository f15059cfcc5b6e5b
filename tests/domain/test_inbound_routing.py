"""Inbound SMS to accounts: by number, and by first word on a shared short code."""

from __future__ import annotations

import pytest

from smsgate.domain.inbound_routing import (
    InboundRoutes,
    NumberRoute,
    RouteConflict,
    Routed,
    Unroutable,
    number_key,
)

SHOP, PIZZA, BANK = 1, 2, 3
TABLE = InboundRoutes(
    [
        NumberRoute("+380 (50) 111-22-33", BANK),  # a long number of one account
        NumberRoute("7510", SHOP, "Shop"),  # a shared short code
        NumberRoute("7510", PIZZA, "піца"),
        NumberRoute("7510", PIZZA, "PIZZA"),
        NumberRoute("4444", SHOP, "deals"),  # a shared code with a default account
        NumberRoute("4444", BANK),
    ]
)


def test_a_number_that_belongs_to_an_account_routes_there() -> None:
    assert TABLE.route("380501112233", "hello") == Routed(BANK, "380501112233", None)
    assert TABLE.route("+380501112233", "") == Routed(BANK, "380501112233", None)


@pytest.mark.parametrize(
    ("text", "account", "word"),
    [
        ("SHOP 2 shirts", SHOP, "shop"),
        ("shop", SHOP, "shop"),
        ("Shop!", SHOP, "shop"),
        ("ПІЦА маргарита", PIZZA, "піца"),
        ("Піца", PIZZA, "піца"),
        ("pizza please", PIZZA, "pizza"),
    ],
)
def test_on_a_shared_code_the_first_word_routes_case_insensitively(
    text: str, account: int, word: str
) -> None:
    assert TABLE.route("7510", text) == Routed(account, "7510", word)


def test_a_keyword_elsewhere_in_the_message_does_not_route() -> None:
    assert TABLE.route("7510", "I want pizza") == Unroutable(
        "no keyword of number 7510 starts the message"
    )


def test_a_shared_code_with_a_default_account_takes_the_rest() -> None:
    assert TABLE.route("4444", "deals today") == Routed(SHOP, "4444", "deals")
    assert TABLE.route("4444", "hello") == Routed(BANK, "4444", None)


def test_an_unknown_number_is_unroutable_with_a_reason() -> None:
    assert TABLE.route("380679999999", "hi") == Unroutable(
        "number 380679999999 belongs to no account"
    )
    assert TABLE.route("ALPHA", "hi") == Unroutable("destination 'ALPHA' is not a number")


def test_an_empty_table_routes_nothing() -> None:
    assert isinstance(InboundRoutes().route("7510", "shop"), Unroutable)


def test_the_same_route_twice_is_fine() -> None:
    routes = InboundRoutes([NumberRoute("7510", SHOP, "shop"), NumberRoute("7510", SHOP, "SHOP")])
    assert routes.route("7510", "shop") == Routed(SHOP, "7510", "shop")


@pytest.mark.parametrize(
    ("routes", "reason"),
    [
        ([NumberRoute("7510", SHOP), NumberRoute("+7510", PIZZA)], "already belongs to account 1"),
        (
            [NumberRoute("7510", SHOP, "shop"), NumberRoute("7510", PIZZA, "SHOP")],
            "keyword 'shop' on number 7510 already belongs to account 1",
        ),
        ([NumberRoute("75-10a", SHOP)], "not a phone number or short code"),
        ([NumberRoute("7510", SHOP, "two words")], "one word"),
    ],
)
def test_conflicts_are_refused_when_the_table_is_built(
    routes: list[NumberRoute], reason: str
) -> None:
    with pytest.raises(RouteConflict, match=reason):
        InboundRoutes(routes)


@pytest.mark.parametrize(
    ("number", "digits"),
    [("+380 50 123-45-67", "380501234567"), ("(044) 123", "044123"), ("7510", "7510")],
)
def test_number_key(number: str, digits: str) -> None:
    assert number_key(number) == digits


@pytest.mark.parametrize("bad", ["", "+", "abc", "1" * 16, "٧٥١٠"])
def test_number_key_refuses_what_is_not_a_number(bad: str) -> None:
    with pytest.raises(ValueError):
        number_key(bad)
