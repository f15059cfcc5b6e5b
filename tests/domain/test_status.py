from smsgate.domain.status import PartState, Status, advance, fold, public_status


def test_final_state_is_never_left() -> None:
    assert advance(PartState.DELIVRD, PartState.SUBMITTED) is PartState.DELIVRD
    assert advance(PartState.DELIVRD, PartState.UNDELIV) is PartState.DELIVRD


def test_non_final_state_only_moves_forward() -> None:
    assert advance(PartState.SUBMITTED, PartState.SENDING) is PartState.SUBMITTED
    assert advance(PartState.QUEUED, PartState.SUBMITTED) is PartState.SUBMITTED
    assert advance(PartState.SUBMITTED, PartState.UNDELIV) is PartState.UNDELIV


def test_message_is_enroute_until_every_part_is_final() -> None:
    assert fold([PartState.DELIVRD, PartState.SUBMITTED]) is Status.ENROUTE
    assert fold([]) is Status.ENROUTE


def test_message_reports_its_most_telling_failure() -> None:
    assert fold([PartState.DELIVRD, PartState.DELIVRD]) is Status.DELIVRD
    assert fold([PartState.DELIVRD, PartState.EXPIRED]) is Status.EXPIRED
    assert fold([PartState.EXPIRED, PartState.UNDELIV]) is Status.UNDELIV
    assert fold([PartState.UNDELIV, PartState.REJECTD]) is Status.REJECTD


def test_internal_states_map_onto_the_five_public_values() -> None:
    assert {public_status(s) for s in PartState} == set(Status)


def test_any_sequence_of_reports_only_moves_a_part_forward_and_final_is_absorbing() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    from smsgate.domain.status import is_final

    @given(st.lists(st.sampled_from(list(PartState)), max_size=20))
    def check(reports: list[PartState]) -> None:
        state = PartState.QUEUED
        for report in reports:
            new = advance(state, report)
            assert new >= state
            if is_final(state):
                assert new is state
            state = new

    check()


def test_fold_of_all_delivered_parts_is_delivered_whatever_their_number() -> None:
    for count in (1, 2, 10):
        assert fold([PartState.DELIVRD] * count) is Status.DELIVRD
