"""Magic numbers and the outcome mix."""

from __future__ import annotations

from collections import Counter

import pytest

from smsgate.simulator.outcomes import MAGIC_NUMBERS, OutcomePicker, parse_mix
from smsgate.smpp.constants import CommandStatus, MessageState


@pytest.mark.parametrize(
    ("destination", "stat", "status"),
    [
        ("380670000001", "UNDELIV", 0),
        ("380670000002", "EXPIRED", 0),
        ("380670000003", "REJECTD", 0),
        ("380670000004", None, CommandStatus.ESME_RTHROTTLED),
        ("380670000005", None, CommandStatus.ESME_RSUBMITFAIL),
        ("380670000006", "DELIVRD", 0),
        ("380670000007", None, 0),
        ("380670000008", "DELIVRD", 0),
    ],
)
def test_destination_ending_decides_the_outcome(
    destination: str, stat: str | None, status: int
) -> None:
    outcome = OutcomePicker({"DELIVRD": 1.0}).pick(destination)
    assert (outcome.stat, outcome.submit_status) == (stat, status)


def test_slow_receipt_number_waits_five_times_longer() -> None:
    assert MAGIC_NUMBERS["0006"].delay_factor == 5.0


def test_failure_stats_map_to_their_message_state() -> None:
    assert MAGIC_NUMBERS["0001"].message_state == MessageState.UNDELIVERABLE
    assert MAGIC_NUMBERS["0002"].message_state == MessageState.EXPIRED
    assert MAGIC_NUMBERS["0003"].message_state == MessageState.REJECTED
    assert MAGIC_NUMBERS["0001"].failed and not MAGIC_NUMBERS["0006"].failed


def test_mix_is_drawn_with_its_weights_and_a_seed_repeats_it() -> None:
    mix = {"DELIVRD": 0.8, "UNDELIV": 0.2}
    first, second = OutcomePicker(mix, seed=7), OutcomePicker(mix, seed=7)
    draws = [first.pick(f"38050{i:07d}8").stat for i in range(2000)]
    assert draws == [second.pick(f"38050{i:07d}8").stat for i in range(2000)]
    share = Counter(draws)["UNDELIV"] / len(draws)
    assert 0.15 < share < 0.25


def test_parse_mix_reads_stat_weight_pairs() -> None:
    assert parse_mix("delivrd=0.9, UNDELIV=0.1") == {"DELIVRD": 0.9, "UNDELIV": 0.1}
    with pytest.raises(ValueError):
        parse_mix("DELIVRD")


def test_an_empty_mix_is_refused() -> None:
    with pytest.raises(ValueError):
        OutcomePicker({})
