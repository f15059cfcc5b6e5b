"""Every sample in examples/ run as a subprocess against one live node (HTTP, XML, JSON and SMPP
doors, the simulator as operator) and its output checked: ids it prints answer status queries
with the right phone, balances have 4 decimals, statuses reach DELIVRD.

The node runs in the test's event loop, so samples run through asyncio subprocesses, never a
blocking subprocess.run that would starve the node.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import pytest_asyncio

from smsgate.config import demo_settings, load_settings
from smsgate.gateway.demo_account import DemoCredentials, ensure_demo_account
from smsgate.node import Node

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FINAL = {"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD"}
SAMPLE_TIMEOUT = 60.0

# Samples each test runs, filled by @exercises at import; the last test compares it to the tree.
EXERCISED: set[str] = set()
F = TypeVar("F", bound=Callable[..., object])


def exercises(*samples: str) -> Callable[[F], F]:
    def mark(test: F) -> F:
        EXERCISED.update(samples)
        return test

    return mark


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Live:
    node: Node
    creds: DemoCredentials
    url: str
    smpp_port: int

    @property
    def env(self) -> dict[str, str]:
        return {
            "SMSGATE_URL": self.url,
            "SMSGATE_LOGIN": self.creds.login,
            "SMSGATE_SENDER": self.creds.sender,
        }

    def smpp_args(self, password: str | None = None) -> list[str]:
        return [
            "--host=127.0.0.1",
            f"--port={self.smpp_port}",
            f"--login={self.creds.login}",
            f"--password={self.creds.smpp_password if password is None else password}",
        ]

    async def run(self, sample: str, *args: str, **env: str) -> Ran:
        assert sample in EXERCISED, f"{sample} is run but not declared with @exercises"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SMSGATE_")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / sample),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**clean, **self.env, **env},
            cwd=ROOT,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), SAMPLE_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"{sample} {args} did not finish in {SAMPLE_TIMEOUT}s") from None
        assert proc.returncode is not None
        return Ran(proc.returncode, out.decode("utf-8"), err.decode("utf-8"))

    async def json(self, path: str, body: object | None = None) -> tuple[int, dict[str, object]]:
        headers = {"Authorization": f"Bearer {self.creds.token}"}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10) as client:
            r = await asyncio.wait_for(client.post(path, json=body), 15)
        return r.status_code, r.json()

    async def statuses(self, ids: list[str]) -> dict[str, str]:
        status, answer = await self.json("/sms/status", {"id_sms": ids})
        assert status == 200, answer
        success = answer["success_request"]
        assert isinstance(success, dict)
        return dict(success.get("info", {}))

    async def wait_final(self, ids: list[str], timeout: float = 20) -> dict[str, str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            info = await self.statuses(ids)
            if len(info) == len(ids) and set(info.values()) <= FINAL:
                return info
            if loop.time() > deadline:
                raise AssertionError(f"not final in {timeout}s: {info}")
            await asyncio.sleep(0.05)

    async def phone_and_sender(self, message_id: str) -> tuple[str, str]:
        creds = await self.node.store.credentials(self.creds.login)
        assert creds is not None
        view = await self.node.store.message(creds.account.id, int(message_id))
        assert view is not None, f"id {message_id} is not stored"
        return view.phone, view.sender

    async def money(self) -> str:
        status, answer = await self.json("/sms/balance")
        assert status == 200, answer
        success = answer["success_request"]
        assert isinstance(success, dict)
        return str(success["info"]["money"])

    async def send_json(self, phones: list[str], text: str) -> dict[str, str]:
        body = {"phone": phones, "message": text, "src_addr": self.creds.sender}
        status, answer = await self.json("/sms/send", body)
        assert status == 200, answer
        success = answer["success_request"]
        assert isinstance(success, dict)
        info: dict[str, str] = success["info"]
        assert sorted(info.values()) == sorted(phones), answer
        return info


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    tmp = tmp_path_factory.mktemp("samples")
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp}/samples.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": True, "host": "127.0.0.1", "port": free_port()},
            simulator={"port": free_port(), "receipt_delay": 0.05},
            dispatch={"retry_backoff": 0.05, "retry_backoff_max": 0.2},
        )
    )
    node = Node(settings)
    await asyncio.wait_for(node.start(), 20)
    try:
        creds = await asyncio.wait_for(ensure_demo_account(node.store, tmp / "demo.json"), 20)
        assert node.addresses.smpp_port is not None
        url = f"http://127.0.0.1:{node.addresses.http_port}"
        yield Live(node, creds, url, node.addresses.smpp_port)
    finally:
        await asyncio.wait_for(node.stop(), 20)


def legacy_ids(answer: str) -> list[str]:
    match = re.fullmatch(r"=IDS START=<br/>((?:\d+<br/>)+)=IDS END=<br/>\n", answer)
    assert match, f"not a legacy send answer: {answer!r}"
    return match.group(1).split("<br/>")[:-1]


def xml_ids(answer: str) -> list[str]:
    root = ET.fromstring(answer.strip())
    assert root.tag == "response"
    assert root.findtext("status") == "OK", answer
    return [mess.text or "" for mess in root.iterfind("ids/mess")]


def json_info(answer: str) -> object:
    parsed = json.loads(answer)
    return parsed["success_request"]["info"]


# -- HTTP gateway (plain text) ---------------------------------------------------------------


@exercises("examples/http/send_single.py")
async def test_http_send_single_by_token_prints_an_id_for_the_phone(live: Live) -> None:
    ran = await live.run(
        "examples/http/send_single.py",
        "380501110001",
        "http single by token",
        SMSGATE_TOKEN=live.creds.token,
    )
    assert ran.returncode == 0, ran
    (message_id,) = legacy_ids(ran.stdout)
    assert await live.phone_and_sender(message_id) == ("380501110001", "smsgate")
    # The simulator ends ...0001 in UNDELIV: the id is the message sent to that phone.
    assert await live.wait_final([message_id]) == {message_id: "UNDELIV"}


@exercises("examples/http/send_single.py")
async def test_http_send_single_by_password_in_cp1251_is_accepted(live: Live) -> None:
    ran = await live.run(
        "examples/http/send_single.py",
        "380501110100",
        "Привіт з smsgate",
        "--charset",
        "cp1251",
        SMSGATE_PASSWORD=live.creds.password,
    )
    assert ran.returncode == 0, ran
    (message_id,) = legacy_ids(ran.stdout)
    assert await live.phone_and_sender(message_id) == ("380501110100", "smsgate")
    assert await live.wait_final([message_id]) == {message_id: "DELIVRD"}


@exercises("examples/http/send_single.py")
async def test_http_send_single_with_a_wrong_password_exits_1(live: Live) -> None:
    ran = await live.run(
        "examples/http/send_single.py", "380501110101", "wrong", SMSGATE_PASSWORD="nope"
    )
    assert ran.returncode == 1
    assert "=IDS START=" not in ran.stdout
    assert ran.stdout.strip()


@exercises("examples/http/send_mass.py")
async def test_http_send_mass_prints_one_id_per_phone_in_order(live: Live) -> None:
    phones = ["380501120200", "380501120001", "380501120002"]
    ran = await live.run(
        "examples/http/send_mass.py",
        "--text",
        "http mass",
        *phones,
        SMSGATE_TOKEN=live.creds.token,
    )
    assert ran.returncode == 0, ran
    ids = legacy_ids(ran.stdout)
    assert len(ids) == 3
    assert [(await live.phone_and_sender(i))[0] for i in ids] == phones
    final = await live.wait_final(ids)
    assert [final[i] for i in ids] == ["DELIVRD", "UNDELIV", "EXPIRED"]


@exercises("examples/http/balance.py")
async def test_http_balance_prints_money_with_four_decimals_and_credit(live: Live) -> None:
    for auth in ({"SMSGATE_TOKEN": live.creds.token}, {"SMSGATE_PASSWORD": live.creds.password}):
        before = await live.money()
        ran = await live.run("examples/http/balance.py", **auth)
        assert ran.returncode == 0, ran
        assert ran.stdout == f"{before}<br/>0.0000<br/>\n"
        assert re.fullmatch(r"\d+\.\d{4}", before)


@exercises("examples/http/balance.py")
async def test_http_balance_with_a_wrong_password_prints_no_digits_and_exits_1(
    live: Live,
) -> None:
    ran = await live.run("examples/http/balance.py", SMSGATE_PASSWORD="wrong")
    assert ran.returncode == 1
    assert ran.stdout.strip()
    assert not re.search(r"[\d.,]", ran.stdout)


@exercises("examples/http/statuses.py")
async def test_http_statuses_print_final_states_and_leave_out_unknown_ids(live: Live) -> None:
    info = await live.send_json(["380501130300", "380501130001"], "http statuses")
    by_phone = {phone: message_id for message_id, phone in info.items()}
    delivered, undelivered = by_phone["380501130300"], by_phone["380501130001"]
    await live.wait_final([delivered, undelivered])
    for auth in ({"SMSGATE_TOKEN": live.creds.token}, {"SMSGATE_PASSWORD": live.creds.password}):
        ran = await live.run(
            "examples/http/statuses.py", delivered, undelivered, "999999999999", **auth
        )
        assert ran.returncode == 0, ran
        assert ran.stdout == (
            f"=IDS START=<br/>{delivered}: DELIVRD<br/>{undelivered}: UNDELIV<br/>=IDS END=<br/>\n"
        )


# -- XML gateway -----------------------------------------------------------------------------


@exercises("examples/xml/send_single.py")
async def test_xml_send_single_prints_one_mess_id_for_the_phone(live: Live) -> None:
    for auth, phone in (
        ({"SMSGATE_PASSWORD": live.creds.password}, "380501140400"),
        ({"SMSGATE_TOKEN": live.creds.token}, "380501140001"),
    ):
        ran = await live.run("examples/xml/send_single.py", phone, "xml single <&>", **auth)
        assert ran.returncode == 0, ran
        (message_id,) = xml_ids(ran.stdout)
        assert await live.phone_and_sender(message_id) == (phone, "smsgate")
        expected = "UNDELIV" if phone.endswith("0001") else "DELIVRD"
        assert await live.wait_final([message_id]) == {message_id: expected}


@exercises("examples/xml/send_single.py")
async def test_xml_send_single_with_a_wrong_password_prints_error_and_exits_1(
    live: Live,
) -> None:
    ran = await live.run(
        "examples/xml/send_single.py", "380501140401", "xml wrong", SMSGATE_PASSWORD="wrong"
    )
    assert ran.returncode == 1
    root = ET.fromstring(ran.stdout.strip())
    assert root.findtext("status") == "ERROR"
    assert (root.findtext("text") or "").strip()


@exercises("examples/xml/send_mass.py")
async def test_xml_send_mass_with_one_text_prints_ids_in_phone_order(live: Live) -> None:
    phones = ["380501150500", "380501150001"]
    ran = await live.run(
        "examples/xml/send_mass.py",
        *phones,
        "--text",
        "xml mass",
        SMSGATE_PASSWORD=live.creds.password,
    )
    assert ran.returncode == 0, ran
    ids = xml_ids(ran.stdout)
    assert [(await live.phone_and_sender(i))[0] for i in ids] == phones
    final = await live.wait_final(ids)
    assert [final[i] for i in ids] == ["DELIVRD", "UNDELIV"]


@exercises("examples/xml/send_mass.py")
async def test_xml_send_mass_with_a_text_each_uses_individual_php(live: Live) -> None:
    phones = ["380501160002", "380501160600"]
    ran = await live.run(
        "examples/xml/send_mass.py",
        *phones,
        "--text",
        "xml hi Ann",
        "--text",
        "xml hi Bob",
        SMSGATE_TOKEN=live.creds.token,
    )
    assert ran.returncode == 0, ran
    ids = xml_ids(ran.stdout)
    assert [(await live.phone_and_sender(i))[0] for i in ids] == phones
    final = await live.wait_final(ids)
    assert [final[i] for i in ids] == ["EXPIRED", "DELIVRD"]


@exercises("examples/xml/statuses.py")
async def test_xml_statuses_list_one_entry_per_known_id(live: Live) -> None:
    info = await live.send_json(["380501170700", "380501170002"], "xml statuses")
    by_phone = {phone: message_id for message_id, phone in info.items()}
    delivered, expired = by_phone["380501170700"], by_phone["380501170002"]
    await live.wait_final([delivered, expired])
    ran = await live.run(
        "examples/xml/statuses.py",
        delivered,
        expired,
        "999999999999",
        SMSGATE_PASSWORD=live.creds.password,
    )
    assert ran.returncode == 0, ran
    root = ET.fromstring(ran.stdout.strip())
    assert root.findtext("status") == "OK"
    entries = [(e.findtext("smscid"), e.findtext("state")) for e in root.iterfind("entries/entry")]
    assert entries == [(delivered, "DELIVRD"), (expired, "EXPIRED")]


# -- JSON API --------------------------------------------------------------------------------


@exercises("examples/json/send_single.py")
async def test_json_send_single_prints_an_id_for_the_phone(live: Live) -> None:
    ran = await live.run(
        "examples/json/send_single.py",
        "380501180800",
        "json single",
        SMSGATE_TOKEN=live.creds.token,
    )
    assert ran.returncode == 0, ran
    info = json_info(ran.stdout)
    assert isinstance(info, dict)
    ((message_id, phone),) = info.items()
    assert phone == "380501180800"
    assert await live.phone_and_sender(message_id) == ("380501180800", "smsgate")
    assert await live.wait_final([message_id]) == {message_id: "DELIVRD"}


@exercises("examples/json/send_single.py")
async def test_json_send_single_with_a_bad_token_prints_401_and_exits_1(live: Live) -> None:
    ran = await live.run(
        "examples/json/send_single.py", "380501180801", "json bad token", SMSGATE_TOKEN="nope"
    )
    assert ran.returncode == 1
    answer = json.loads(ran.stdout)
    assert answer["status"] == 401
    assert answer["name"] == "Unauthorized"


@exercises("examples/json/send_single.py")
async def test_json_send_single_with_an_unknown_sender_prints_400_and_exits_1(
    live: Live,
) -> None:
    ran = await live.run(
        "examples/json/send_single.py",
        "380501180802",
        "json unknown sender",
        "--sender",
        "NotMine",
        SMSGATE_TOKEN=live.creds.token,
    )
    assert ran.returncode == 1
    assert list(json.loads(ran.stdout)["success_request"]["add_info"]) == ["src_addr"]


@exercises("examples/json/send_mass.py")
async def test_json_send_mass_with_one_text_prints_an_id_per_phone(live: Live) -> None:
    phones = ["380501190900", "380501190001", "380501190002"]
    ran = await live.run(
        "examples/json/send_mass.py",
        *phones,
        "--text",
        "json mass",
        SMSGATE_TOKEN=live.creds.token,
    )
    assert ran.returncode == 0, ran
    info = json_info(ran.stdout)
    assert isinstance(info, dict)
    assert sorted(info.values()) == sorted(phones)
    for message_id, phone in info.items():
        assert await live.phone_and_sender(message_id) == (phone, "smsgate")
    final = await live.wait_final(list(info))
    by_phone = {phone: final[message_id] for message_id, phone in info.items()}
    assert by_phone == dict(zip(phones, ["DELIVRD", "UNDELIV", "EXPIRED"], strict=True))


@exercises("examples/json/send_mass.py")
async def test_json_send_mass_with_a_text_each_uses_v2(live: Live) -> None:
    phones = ["380501201000", "380501200001"]
    ran = await live.run(
        "examples/json/send_mass.py",
        *phones,
        "--text",
        "json hi Ann",
        "--text",
        "json hi Bob",
        SMSGATE_TOKEN=live.creds.token,
    )
    assert ran.returncode == 0, ran
    info = json_info(ran.stdout)
    assert isinstance(info, dict)
    assert sorted(info.values()) == sorted(phones)
    final = await live.wait_final(list(info))
    by_phone = {phone: final[message_id] for message_id, phone in info.items()}
    assert by_phone == {"380501201000": "DELIVRD", "380501200001": "UNDELIV"}


@exercises("examples/json/send_mass.py")
async def test_json_send_mass_with_mismatched_texts_is_a_usage_error(live: Live) -> None:
    ran = await live.run(
        "examples/json/send_mass.py",
        "380501201001",
        "380501201002",
        "380501201003",
        "--text",
        "a",
        "--text",
        "b",
        SMSGATE_TOKEN=live.creds.token,
    )
    assert ran.returncode == 2
    assert "one per recipient" in ran.stderr


@exercises("examples/json/statuses.py")
async def test_json_statuses_print_delivrd_after_the_receipt(live: Live) -> None:
    info = await live.send_json(["380501211100", "380501210001"], "json statuses")
    by_phone = {phone: message_id for message_id, phone in info.items()}
    delivered, undelivered = by_phone["380501211100"], by_phone["380501210001"]
    await live.wait_final([delivered, undelivered])
    ran = await live.run(
        "examples/json/statuses.py",
        delivered,
        undelivered,
        "999999999999",
        SMSGATE_TOKEN=live.creds.token,
    )
    assert ran.returncode == 0, ran
    answer = json.loads(ran.stdout)["success_request"]
    assert answer["info"] == {delivered: "DELIVRD", undelivered: "UNDELIV"}
    assert list(answer["add_info"]) == ["999999999999"]


@exercises("examples/json/statuses.py")
async def test_json_statuses_of_only_unknown_ids_exit_1(live: Live) -> None:
    ran = await live.run(
        "examples/json/statuses.py", "999999999998", SMSGATE_TOKEN=live.creds.token
    )
    assert ran.returncode == 1
    assert "info" not in json.loads(ran.stdout)["success_request"]


@exercises("examples/json/balance.py")
async def test_json_balance_prints_money_with_four_decimals(live: Live) -> None:
    before = await live.money()
    ran = await live.run("examples/json/balance.py", SMSGATE_TOKEN=live.creds.token)
    assert ran.returncode == 0, ran
    info = json_info(ran.stdout)
    assert info == {"money": before, "currency": "UAH"}
    assert re.fullmatch(r"\d+\.\d{4}", before)


@exercises("examples/json/balance.py")
async def test_json_balance_with_a_bad_token_exits_1(live: Live) -> None:
    ran = await live.run("examples/json/balance.py", "--token=nope")
    assert ran.returncode == 1
    assert json.loads(ran.stdout)["status"] == 401


@exercises("examples/json/senders.py")
async def test_json_senders_include_smsgate(live: Live) -> None:
    ran = await live.run("examples/json/senders.py", f"--token={live.creds.token}")
    assert ran.returncode == 0, ran
    assert json_info(ran.stdout) == ["smsgate"]


@exercises("examples/json/senders.py")
async def test_json_senders_with_a_bad_token_exit_1(live: Live) -> None:
    ran = await live.run("examples/json/senders.py", SMSGATE_TOKEN="nope")
    assert ran.returncode == 1
    assert json.loads(ran.stdout)["name"] == "Unauthorized"


# -- SMPP door -------------------------------------------------------------------------------


@exercises("examples/smpp/send_single.py")
async def test_smpp_single_sms_prints_its_id_and_a_delivrd_receipt(live: Live) -> None:
    ran = await live.run(
        "examples/smpp/send_single.py",
        *live.smpp_args(),
        "380501221200",
        "smpp single",
    )
    assert ran.returncode == 0, ran
    lines = ran.stdout.splitlines()
    assert re.fullmatch(r"ids: \d+", lines[0]), ran.stdout
    message_id = lines[0].removeprefix("ids: ")
    assert len(lines) == 2, ran.stdout
    assert re.match(
        rf"receipt: id:{message_id} sub:001 dlvrd:001 .* stat:DELIVRD err:000", lines[1]
    )
    assert await live.phone_and_sender(message_id) == ("380501221200", "smsgate")
    assert await live.statuses([message_id]) == {message_id: "DELIVRD"}


@exercises("examples/smpp/send_single.py")
async def test_smpp_single_sms_of_three_parts_gets_an_id_and_a_receipt_each(
    live: Live,
) -> None:
    ran = await live.run(
        "examples/smpp/send_single.py",
        *live.smpp_args(),
        "380501231300",
        "smpp long " * 40,  # 400 GSM-7 septets: 3 UDH parts
    )
    assert ran.returncode == 0, ran
    lines = ran.stdout.splitlines()
    ids = lines[0].removeprefix("ids: ").split(" ")
    assert len(ids) == 3 and all(i.isdigit() for i in ids), ran.stdout
    receipts = "\n".join(lines[1:])
    assert sorted(re.findall(r"^receipt: id:(\d+) .* stat:DELIVRD ", receipts, re.M)) == sorted(ids)
    # Every part's id answers for the whole message.
    assert await live.statuses(ids) == dict.fromkeys(ids, "DELIVRD")


@exercises("examples/smpp/send_single.py")
async def test_smpp_single_sms_to_a_bad_number_prints_the_refusal_and_exits_1(
    live: Live,
) -> None:
    ran = await live.run("examples/smpp/send_single.py", *live.smpp_args(), "12", "smpp bad")
    assert ran.returncode == 1, ran
    assert ran.stdout == "refused: submit_sm_resp command_status 0x0B ESME_RINVDSTADR\n"


@exercises("examples/smpp/send_single.py")
async def test_smpp_single_sms_with_a_wrong_password_exits_1(live: Live) -> None:
    ran = await live.run(
        "examples/smpp/send_single.py",
        *live.smpp_args(password="wrong"),
        "380501231301",
        "smpp wrong password",
    )
    assert ran.returncode == 1, ran
    assert ran.stdout == "refused: bind_transceiver_resp command_status 0x0E ESME_RINVPASWD\n"


@exercises("examples/smpp/send_mass.py")
async def test_smpp_mass_send_prints_an_id_per_phone_and_refusals(live: Live) -> None:
    phones = ["380501241400", "380501240001", "12"]
    ran = await live.run(
        "examples/smpp/send_mass.py",
        *live.smpp_args(),
        "smpp mass",
        *phones,
    )
    assert ran.returncode == 0, ran
    lines = ran.stdout.splitlines()
    assert len(lines) == 3, ran.stdout
    ids = []
    for line, phone in zip(lines[:2], phones[:2], strict=True):
        match = re.fullmatch(rf"{phone}: (\d+)", line)
        assert match, ran.stdout
        ids.append(match.group(1))
        assert await live.phone_and_sender(match.group(1)) == (phone, "smsgate")
    # ESME_RINVDSTADR: a number no country has.
    assert lines[2] == "12: refused, command_status 0x0B ESME_RINVDSTADR"
    final = await live.wait_final(ids)
    assert [final[i] for i in ids] == ["DELIVRD", "UNDELIV"]


@exercises("examples/smpp/send_mass.py")
async def test_smpp_mass_send_with_a_wrong_password_exits_1(live: Live) -> None:
    ran = await live.run(
        "examples/smpp/send_mass.py",
        *live.smpp_args(password="wrong"),
        "smpp mass wrong password",
        "380501241401",
    )
    assert ran.returncode == 1, ran
    assert ran.stdout == "refused: bind_transmitter_resp command_status 0x0E ESME_RINVPASWD\n"


@exercises("examples/smpp/statuses.py")
async def test_smpp_statuses_print_states_and_fail_unknown_ids(live: Live) -> None:
    info = await live.send_json(["380501251500", "380501250002"], "smpp statuses")
    by_phone = {phone: message_id for message_id, phone in info.items()}
    delivered, expired = by_phone["380501251500"], by_phone["380501250002"]
    await live.wait_final([delivered, expired])
    ran = await live.run(
        "examples/smpp/statuses.py", *live.smpp_args(), delivered, expired, "999999999999"
    )
    assert ran.returncode == 0, ran
    lines = ran.stdout.splitlines()
    assert len(lines) == 3, ran.stdout
    assert re.fullmatch(rf"{delivered}: DELIVRD final_date=\d{{13}}00\+ error=0", lines[0])
    assert re.fullmatch(rf"{expired}: EXPIRED final_date=\d{{13}}00\+ error=\d+", lines[1])
    assert lines[2] == "999999999999: query failed, command_status 0x67"


@exercises("examples/smpp/statuses.py")
async def test_smpp_statuses_with_a_wrong_password_exit_1(live: Live) -> None:
    ran = await live.run("examples/smpp/statuses.py", *live.smpp_args(password="wrong"), "1")
    assert ran.returncode == 1
    assert "bind refused: command_status 0x0E" in ran.stderr


@exercises("examples/smpp/send_single.py")
@exercises("examples/smpp/send_mass.py")
@exercises("examples/smpp/statuses.py")
async def test_smpp_samples_explain_themselves_and_take_the_environment(live: Live) -> None:
    for sample in ("send_single.py", "send_mass.py", "statuses.py"):
        ran = await live.run(f"examples/smpp/{sample}", "--help")
        assert ran.returncode == 0, ran
        assert "--password" in ran.stdout and "--port" in ran.stdout, ran.stdout
    # Everything from the environment, as a user who exported it once would run them.
    env = {
        "SMSGATE_SMPP_PORT": str(live.smpp_port),
        "SMSGATE_SMPP_PASSWORD": live.creds.smpp_password,
    }
    ran = await live.run("examples/smpp/send_mass.py", "smpp env", "380501261600", **env)
    assert ran.returncode == 0, ran
    (message_id,) = re.findall(r"^380501261600: (\d+)$", ran.stdout, re.M)
    ran = await live.run("examples/smpp/statuses.py", message_id, **env)
    assert ran.returncode == 0, ran
    assert ran.stdout.startswith(f"{message_id}: "), ran.stdout


# -- webhooks -------------------------------------------------------------------------------


@exercises("examples/webhooks/receiver.py")
async def test_webhook_receiver_verifies_signatures_and_prints_events() -> None:
    # Without a gateway: our sender and signing on one side, the sample with the
    # standardwebhooks package on the other.
    from smsgate.webhooks.attempt import OutgoingRequest
    from smsgate.webhooks.callback_form import CallbackFields, callback_request
    from smsgate.webhooks.sender import HttpSender, SenderSettings
    from smsgate.webhooks.signing import new_secret, signature_headers

    secret, port = new_secret(), free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "webhooks" / "receiver.py"),
        f"--port={port}",
        f"--secret={secret.text}",
        "--count=2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert proc.stderr is not None
        line = await asyncio.wait_for(proc.stderr.readline(), SAMPLE_TIMEOUT)
        assert line.decode().startswith(f"listening on http://127.0.0.1:{port}/")
        url = f"http://127.0.0.1:{port}"
        body = json.dumps({"type": "message.status", "data": {"id": "42"}}).encode()
        async with HttpSender(SenderSettings(allow_private=True)) as sender:
            signed = signature_headers([new_secret()], "evt_bad", int(time.time()), body)
            refused = await sender.send(
                OutgoingRequest("POST", f"{url}/webhook", tuple(signed.items()), body)
            )
            signed = signature_headers([secret], "evt_1", int(time.time()), body)
            accepted = await sender.send(
                OutgoingRequest("POST", f"{url}/webhook", tuple(signed.items()), body)
            )
            fields = CallbackFields("42", "380501234567", "DELIVRD", "000", 1)
            callback = await sender.send(callback_request(f"{url}/callback?order=7", fields))
        assert (refused.status, accepted.status, callback.status) == (401, 204, 204)
        out, err = await asyncio.wait_for(proc.communicate(), SAMPLE_TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    events = [json.loads(line) for line in out.decode().splitlines()]
    assert events[0] == {"webhook_id": "evt_1", "event": json.loads(body)}
    assert events[1]["callback"]["order"] == "7" and events[1]["callback"]["status"] == "DELIVRD"
    assert "refused webhook evt_bad: No matching signature found" in err.decode()


@exercises("examples/webhooks/receiver.py")
async def test_webhook_receiver_gets_a_verified_status_of_a_message_sent_by_json(
    live: Live,
) -> None:
    # The README's tour: an endpoint added with `smsgate admin webhooks add`, the sample
    # receiver started with the secret it printed, a message sent through the JSON door, and
    # its final status arriving signed and verified by the standardwebhooks package.
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMSGATE_")}
    admin = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from smsgate.launcher import main; main()",
        "admin",
        "webhooks",
        "add",
        live.creds.login,
        f"http://127.0.0.1:{port}/webhook",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **clean,
            "SMSGATE_DATABASE__URL": live.node.settings.database.url,
            "SMSGATE_CALLBACKS__ALLOW_PRIVATE": "true",
        },
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(admin.communicate(), SAMPLE_TIMEOUT)
    assert admin.returncode == 0, err.decode()
    secret = re.search(r"(whsec_\S+)", out.decode())
    assert secret is not None, out.decode()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "webhooks" / "receiver.py"),
        f"--port={port}",
        f"--secret={secret.group(1)}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert proc.stderr is not None
        line = await asyncio.wait_for(proc.stderr.readline(), SAMPLE_TIMEOUT)
        assert line.decode().startswith(f"listening on http://127.0.0.1:{port}/")
        (message_id,) = await live.send_json(["380501234567"], "webhook tour")
        assert proc.stdout is not None
        # Events of messages other tests sent may come too: wait for this message's.
        while True:
            printed = json.loads(await asyncio.wait_for(proc.stdout.readline(), SAMPLE_TIMEOUT))
            if printed["event"]["data"]["id"] == message_id:
                break
    finally:
        proc.kill()
        await proc.wait()
    assert printed["webhook_id"].startswith("msg_")
    event = printed["event"]
    assert event["type"] == "message.status"
    data = event["data"]
    assert (data["id"], data["to"], data["status"], data["error"]) == (
        message_id,
        "380501234567",
        "DELIVRD",
        0,
    )


@exercises("examples/webhooks/receiver.py")
async def test_webhook_receiver_prints_the_dlr_url_callback_of_a_message_sent_by_http(
    live: Live,
) -> None:
    # The README's callback tour: the sample receiver started without a secret (callbacks are
    # not signed), a message sent through the HTTP gateway with a GET dlr_url that has a query
    # of its own, and the callback arriving there with the message's final status.
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "webhooks" / "receiver.py"),
        f"--port={port}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        line = await asyncio.wait_for(proc.stderr.readline(), SAMPLE_TIMEOUT)
        assert line.decode().startswith(f"listening on http://127.0.0.1:{port}/")
        query = {
            "username": live.creds.login,
            "token": live.creds.token,
            "from": live.creds.sender,
            "to": "380501234567",
            "text": "callback tour",
            "dlr_method": "GET",
            "dlr_url": f"http://127.0.0.1:{port}/callback?order=17",
        }
        async with httpx.AsyncClient(timeout=10) as client:
            # Without a secret no webhook can be verified: refused, not printed.
            hook = await client.post(f"http://127.0.0.1:{port}/webhook", content=b"{}")
            assert hook.status_code == 401
            r = await asyncio.wait_for(client.get(f"{live.url}/token/", params=query), 15)
        (message_id,) = re.findall(r"<br/>(\d+)<br/>", r.text)
        while True:
            printed = json.loads(await asyncio.wait_for(proc.stdout.readline(), SAMPLE_TIMEOUT))
            if printed.get("callback", {}).get("id") == message_id:
                break
    finally:
        proc.kill()
        await proc.wait()
    callback = printed["callback"]
    assert callback["order"] == "17"
    assert (callback["phone"], callback["status"], callback["parts"]) == (
        "380501234567",
        "DELIVRD",
        "1",
    )
    assert callback["done_at"]


# -- coverage --------------------------------------------------------------------------------


async def test_every_sample_in_examples_is_exercised() -> None:
    samples = {str(p.relative_to(ROOT)) for p in EXAMPLES.rglob("*.py")}
    assert samples, "no samples found"
    assert samples - EXERCISED == set(), "samples no test runs"
    assert EXERCISED - samples == set(), "tests name samples that do not exist"
