import pytest

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
