"""The `sms` command through typer's CliRunner, with a mock transport and a recording sleep
injected through the `Connector`; no socket is opened and nothing really sleeps."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from smsgate.client.cli import Connector, app
from smsgate.client.exit_codes import ExitCode

from .fake_api import SENDER, TOKEN, FakeApi, Sleeps, top_level

runner = CliRunner()


def sms(api: FakeApi, sleeps: Sleeps, *args: str, env: dict[str, str] | None = None) -> Result:
    connector = Connector(
        transport=api.transport(),
        async_transport=api.transport(),
        sleep=sleeps,
        async_sleep=sleeps.asleep,
        clock=sleeps.clock,
    )
    environment = {"SMSGATE_TOKEN": TOKEN, "SMSGATE_URL": "http://gateway.test"}
    environment.update(env or {})
    return runner.invoke(app, list(args), obj=connector, env=environment)


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


def test_help_documents_every_exit_code() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for code in ExitCode:
        assert f"{int(code)} " in result.stdout


def test_send_prints_the_id_of_each_recipient(api: FakeApi, sleeps: Sleeps) -> None:
    result = sms(
        api,
        sleeps,
        "send",
        "--to",
        "380501234567",
        "--to",
        "380501234568",
        "--from",
        SENDER,
        "Hello",
    )
    assert result.exit_code == 0, result.output
    assert "1001  380501234567" in result.stdout
    assert "1002  380501234568" in result.stdout
    assert api.seen[0].body == {
        "phone": ["380501234567", "380501234568"],
        "message": "Hello",
        "src_addr": SENDER,
    }


def test_send_takes_comma_separated_recipients_and_the_text_option(
    api: FakeApi, sleeps: Sleeps
) -> None:
    result = sms(
        api,
        sleeps,
        "send",
        "--to",
        "380501234567,380501234568",
        "--from",
        SENDER,
        "--text",
        "Hi",
        "--lifetime",
        "30",
    )
    assert result.exit_code == 0, result.output
    assert api.seen[0].body["phone"] == ["380501234567", "380501234568"]
    assert api.seen[0].body["lifetime"] == 30.0


def test_url_and_token_options_override_the_environment(api: FakeApi, sleeps: Sleeps) -> None:
    result = sms(
        api,
        sleeps,
        "balance",
        "--url",
        "http://other.test/api",
        "--token",
        "t2",
        env={"SMSGATE_TOKEN": TOKEN},
    )
    assert result.exit_code == ExitCode.AUTHENTICATION  # the fake knows only TOKEN
    assert api.seen[0].path == "/api/sms/balance"
    assert api.seen[0].headers["authorization"] == "Bearer t2"


def test_send_json_output_for_scripts(api: FakeApi, sleeps: Sleeps) -> None:
    result = sms(
        api, sleeps, "send", "--to", "380501234567", "--to", "bad", "--from", SENDER, "Hi", "--json"
    )
    assert result.exit_code == ExitCode.REJECTED
    payload = json.loads(result.stdout)
    assert payload["accepted"] == 1
    assert payload["ids"] == {"1001": "380501234567"}
    assert payload["rejections"] == [{"line": 2, "phone": "bad", "reason": "Invalid phone number"}]


def test_send_with_a_rejection_exits_10_and_says_why(api: FakeApi, sleeps: Sleeps) -> None:
    result = sms(api, sleeps, "send", "--to", "bad", "--from", SENDER, "Hi")
    assert result.exit_code == ExitCode.REJECTED
    assert "rejected bad: Invalid phone number" in result.stderr
    assert "accepted 0, rejected 1" in result.stderr


def test_status_shows_each_id_and_the_unknown_ones(api: FakeApi, sleeps: Sleeps) -> None:
    api.statuses.update({"1": "DELIVRD", "2": "ENROUTE"})
    result = sms(api, sleeps, "status", "1", "2", "3")
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["1", "DELIVRD"] in lines
    assert ["2", "ENROUTE"] in lines
    assert ["3", "unknown:", "Message", "not", "found"] in lines


def test_status_json(api: FakeApi, sleeps: Sleeps) -> None:
    api.statuses["1"] = "EXPIRED"
    result = sms(api, sleeps, "status", "1", "9", "--json")
    assert json.loads(result.stdout) == {
        "statuses": {"1": "EXPIRED"},
        "unknown": {"9": "Message not found"},
    }


def test_status_watch_polls_only_pending_ids_until_all_are_final(
    api: FakeApi, sleeps: Sleeps
) -> None:
    api.statuses.update({"1": "DELIVRD", "2": "ENROUTE"})
    original = api.handle
    polls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal polls
        polls += 1
        if polls == 3:
            api.statuses["2"] = "UNDELIV"
        return original(request)

    api.handle = handle  # type: ignore[method-assign]
    result = sms(api, sleeps, "status", "1", "2", "--watch", "--interval", "2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["statuses"] == {"1": "DELIVRD", "2": "UNDELIV"}
    assert [s.body["id_sms"] for s in api.seen] == [["1", "2"], ["2"], ["2"]]
    assert sleeps == [2.0, 2.0]


def test_balance_and_senders(api: FakeApi, sleeps: Sleeps) -> None:
    assert sms(api, sleeps, "balance").stdout.strip() == "8111.1700 UAH"
    assert json.loads(sms(api, sleeps, "balance", "--json").stdout) == {
        "money": "8111.1700",
        "currency": "UAH",
    }
    assert sms(api, sleeps, "senders").stdout.split() == [SENDER, "Info"]
    assert json.loads(sms(api, sleeps, "senders", "--json").stdout) == [SENDER, "Info"]


def test_no_token_is_a_usage_error(api: FakeApi, sleeps: Sleeps) -> None:
    result = sms(api, sleeps, "balance", env={"SMSGATE_TOKEN": ""})
    assert result.exit_code == ExitCode.USAGE
    assert "SMSGATE_TOKEN" in result.stderr
    assert api.seen == []


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (
            top_level("Unauthorized", "Your request was made with invalid credentials.", 401),
            ExitCode.AUTHENTICATION,
        ),
        (top_level("Duplicate", "Doubled SMS in less than 2 minutes.", 453), ExitCode.DUPLICATE),
        (top_level("Too Many Requests", "Rate limit exceeded.", 429), ExitCode.RATE_LIMITED),
        (top_level("Internal Server Error", "boom", 500), ExitCode.SERVER),
        (httpx.ConnectError("connection refused"), ExitCode.TRANSPORT),
        (httpx.Response(404, text="<html>nope</html>"), ExitCode.UNEXPECTED_RESPONSE),
    ],
)
def test_every_error_kind_has_its_exit_code_and_a_message_not_a_traceback(
    api: FakeApi, sleeps: Sleeps, answer: httpx.Response | Exception, code: ExitCode
) -> None:
    api.script(*[answer] * 4)
    result = sms(api, sleeps, "send", "--to", "380501234567", "--from", SENDER, "Hi")
    assert result.exit_code == code
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None) is not False


def test_an_inactive_sender_exits_4_naming_the_field(api: FakeApi, sleeps: Sleeps) -> None:
    result = sms(api, sleeps, "send", "--to", "380501234567", "--from", "Nobody", "Hi", "--json")
    assert result.exit_code == ExitCode.VALIDATION
    error = json.loads(result.stderr)
    assert error["error"] == "validation"
    assert "src_addr" in error["message"]
    assert error["status_code"] == 400


def test_csv_with_phone_and_message_columns_goes_by_v2(
    api: FakeApi, sleeps: Sleeps, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        [["phone", "message"], ["380501234567", "Hi A"], ["380501234568", "Hi B"]],
    )
    result = sms(api, sleeps, "send", "--csv", str(path), "--from", SENDER, "--rate", "0")
    assert result.exit_code == 0, result.output
    assert api.paths == ["/v2/sms/send"]
    assert api.seen[0].body["data_message"][1] == {"phone": "380501234568", "message": "Hi B"}
    assert "accepted 2, rejected 0" in result.stderr


def test_csv_of_phones_with_one_text_goes_by_sms_send(
    api: FakeApi, sleeps: Sleeps, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "r.csv", [["380501234567"], ["380501234568"]])
    result = sms(api, sleeps, "send", "--csv", str(path), "--from", SENDER, "--text", "Hi")
    assert result.exit_code == 0, result.output
    assert api.paths == ["/sms/send"]
    assert api.seen[0].body["message"] == "Hi"


def test_csv_without_messages_or_text_is_a_usage_error(
    api: FakeApi, sleeps: Sleeps, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "r.csv", [["phone"], ["380501234567"]])
    result = sms(api, sleeps, "send", "--csv", str(path), "--from", SENDER)
    assert result.exit_code == ExitCode.USAGE
    assert "--text" in result.stderr
    assert api.seen == []


def test_a_missing_csv_file_is_a_usage_error(api: FakeApi, sleeps: Sleeps, tmp_path: Path) -> None:
    result = sms(
        api, sleeps, "send", "--csv", str(tmp_path / "none.csv"), "--from", SENDER, "--text", "Hi"
    )
    assert result.exit_code == ExitCode.USAGE
    assert "cannot read" in result.stderr


def test_rejected_rows_are_written_with_their_reason(
    api: FakeApi, sleeps: Sleeps, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["phone", "message"],
            ["380501234567", "A"],
            ["bad", "B"],
            ["", "C"],
            ["380501234568", ""],
        ],
    )
    rejected = tmp_path / "rejected.csv"
    accepted = tmp_path / "accepted.csv"
    result = sms(
        api,
        sleeps,
        "send",
        "--csv",
        str(path),
        "--from",
        SENDER,
        "--rejected-out",
        str(rejected),
        "--accepted-out",
        str(accepted),
    )
    assert result.exit_code == ExitCode.REJECTED
    assert "accepted 1, rejected 3" in result.stderr
    with rejected.open() as file:
        rows = list(csv.DictReader(file))
    assert [(r["line"], r["phone"], r["reason"]) for r in rows] == [
        ("3", "bad", "Invalid phone number"),
        ("4", "", "no phone number"),
        ("5", "380501234568", "no message text (and no --text)"),
    ]
    with accepted.open() as file:
        assert list(csv.DictReader(file)) == [{"id": "1001", "phone": "380501234567"}]


def test_a_bad_token_stops_a_csv_run_and_accounts_for_every_row(
    api: FakeApi, sleeps: Sleeps, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "r.csv", [[f"38050{n:07d}"] for n in range(1000)])
    rejected = tmp_path / "rejected.csv"
    result = sms(
        api,
        sleeps,
        "send",
        "--csv",
        str(path),
        "--from",
        SENDER,
        "--text",
        "Hi",
        "--token",
        "wrong",
        "--concurrency",
        "2",
        "--rejected-out",
        str(rejected),
    )
    assert result.exit_code == ExitCode.AUTHENTICATION
    assert len(api.seen) <= 2  # the workers that had already started; nothing after
    assert "accepted 0, rejected 1000" in result.stderr
    with rejected.open() as file:
        assert sum(1 for _ in csv.DictReader(file)) == 1000


def test_twenty_thousand_rows_are_all_accounted_for(
    api: FakeApi, sleeps: Sleeps, tmp_path: Path
) -> None:
    rows = [[f"38050{n:07d}", f"message {n}"] for n in range(20_000)]
    for n in range(0, 20_000, 1000):
        rows[n][0] = f"bad{n}"  # 20 rows the server rejects
    path = write_csv(tmp_path / "big.csv", [["phone", "message"], *rows])
    rejected = tmp_path / "rejected.csv"
    # One 429 and one 500 on the way: both retried, no row lost.
    api.script(
        top_level("Too Many Requests", "Rate limit exceeded.", 429, **{"Retry-After": "1"}),
        top_level("Internal Server Error", "boom", 500),
    )
    result = sms(
        api,
        sleeps,
        "send",
        "--csv",
        str(path),
        "--from",
        SENDER,
        "--rate",
        "0",
        "--concurrency",
        "8",
        "--rejected-out",
        str(rejected),
        "--json",
    )
    assert result.exit_code == ExitCode.REJECTED, result.output
    summary = json.loads(result.stdout)
    assert summary["accepted"] == 19_980
    assert summary["rejected"] == 20
    assert summary["accepted"] + summary["rejected"] == 20_000
    assert sum(len(s.body["data_message"]) for s in api.seen) == 20_000 + 200  # two retried
    assert max(len(s.body["data_message"]) for s in api.seen) == 100
    assert len(sleeps) == 2 and sleeps[0] == 1.0  # Retry-After first, then a backoff
    with rejected.open() as file:
        assert [r["phone"] for r in csv.DictReader(file)] == [
            f"bad{n}" for n in range(0, 20_000, 1000)
        ]


def test_csv_sending_is_paced_to_the_rate(api: FakeApi, sleeps: Sleeps, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [[f"38050{n:07d}"] for n in range(500)])
    result = sms(
        api,
        sleeps,
        "send",
        "--csv",
        str(path),
        "--from",
        SENDER,
        "--text",
        "Hi",
        "--rate",
        "4",
        "--concurrency",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert len(api.seen) == 5
    assert len(sleeps) == 4  # every request after the first waited its turn
    assert sleeps == pytest.approx([0.25] * 4)
