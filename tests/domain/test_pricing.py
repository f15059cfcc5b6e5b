import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgate.domain.pricing import AccountPricing, TariffTable, price_for

PLAN = [("", 9_000), ("380", 5_000), ("38050", 4_000), ("48", 7_000)]


def test_longest_matching_prefix_wins() -> None:
    assert price_for("380501234567", PLAN) == 4_000
    assert price_for("380671234567", PLAN) == 5_000
    assert price_for("48601234567", PLAN) == 7_000


def test_empty_prefix_is_the_catch_all() -> None:
    assert price_for("12025550123", PLAN) == 9_000


def test_no_matching_tariff_is_none() -> None:
    assert price_for("12025550123", [("380", 5_000)]) is None
    assert price_for("380501234567", []) is None


def test_account_tariff_beats_a_longer_default_prefix() -> None:
    assert price_for("380501234567", PLAN, [("380", 3_000)]) == 3_000


def test_account_default_beats_every_default_plan_tariff() -> None:
    assert price_for("380501234567", PLAN, [("", 1_000)]) == 1_000


def test_longest_prefix_among_account_tariffs_wins() -> None:
    own = [("", 1_000), ("38067", 2_500)]
    assert price_for("380671234567", PLAN, own) == 2_500
    assert price_for("380501234567", PLAN, own) == 1_000


def test_account_tariffs_that_do_not_match_fall_back_to_the_default_plan() -> None:
    assert price_for("48601234567", PLAN, [("380", 3_000)]) == 7_000


def test_free_tariff_is_a_price_not_a_miss() -> None:
    assert price_for("380501234567", PLAN, [("380", 0)]) == 0


def test_prefix_longer_than_the_number_does_not_match() -> None:
    assert price_for("3805", [("380501", 1)]) is None
    assert TariffTable([("380501", 1)]).lookup("3805") is None


@pytest.mark.parametrize(
    ("phone", "own"),
    [
        ("380501234567", []),
        ("380501234567", [("380", 3_000)]),
        ("380671234567", [("", 1_000), ("38067", 2_500)]),
        ("48601234567", [("380", 3_000)]),
        ("12025550123", []),
        ("3", []),
    ],
)
def test_precompiled_tables_agree_with_price_for(phone: str, own: list[tuple[str, int]]) -> None:
    assert AccountPricing(PLAN, own).price(phone) == price_for(phone, PLAN, own)


def test_table_rejects_non_digit_prefix() -> None:
    with pytest.raises(ValueError):
        TariffTable([("+380", 1)])


def test_table_rejects_two_prices_for_one_prefix() -> None:
    with pytest.raises(ValueError):
        TariffTable([("380", 1), ("380", 2)])
    assert len(TariffTable([("380", 1), ("380", 1)])) == 1


_PREFIXES = st.text("0123456789", max_size=6)


@settings(max_examples=500)
@given(
    plan=st.dictionaries(_PREFIXES, st.integers(0, 10**6), max_size=8),
    own=st.dictionaries(_PREFIXES, st.integers(0, 10**6), max_size=8),
    phones=st.lists(st.text("0123456789", max_size=14), max_size=30),
    memo_size=st.integers(1, 8),
)
def test_remembered_prices_agree_with_price_for(
    plan: dict[str, int], own: dict[str, int], phones: list[str], memo_size: int
) -> None:
    pricing = AccountPricing(list(plan.items()), list(own.items()), memo_size=memo_size)
    for phone in phones + phones:  # the second round answers from the memo (or a cleared one)
        assert pricing.price(phone) == price_for(phone, list(plan.items()), list(own.items()))
