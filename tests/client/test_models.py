"""Result values: final statuses, merging partial results in order."""

from __future__ import annotations

from smsgate.client.models import SendResult, Status, StatusReport


def test_exactly_the_five_public_statuses_and_only_enroute_is_not_final() -> None:
    assert [s.value for s in Status] == ["ENROUTE", "DELIVRD", "EXPIRED", "UNDELIV", "REJECTD"]
    assert [s for s in Status if not s.is_final] == [Status.ENROUTE]
    assert Status.DELIVRD == "DELIVRD"


def test_send_results_merge_in_order() -> None:
    merged = SendResult.merged(
        [SendResult({"1": "a"}, {"x": "bad"}), SendResult({"2": "b"}, {"y": "worse"})]
    )
    assert merged.ids == ["1", "2"]
    assert merged.rejected == {"x": "bad", "y": "worse"}


def test_status_reports_merge_in_order_and_keep_unknown_ids() -> None:
    merged = StatusReport.merged(
        [
            StatusReport({"1": Status.DELIVRD}, {"9": "Message not found"}),
            StatusReport({"2": Status.ENROUTE}),
        ]
    )
    assert list(merged) == ["1", "2"]
    assert merged.unknown == {"9": "Message not found"}
    assert not merged.all_final
    assert StatusReport({"1": Status.EXPIRED}).all_final
