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
