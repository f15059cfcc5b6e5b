"""The simulator's injected operator faults, each seen from an ESME over loopback: set by
configuration or changed while it runs (in process, or over its control surface)."""

from __future__ import annotations

import asyncio
import json

import pytest
from simulator.test_handler import T, esme, simulator, submit, until
from typer.testing import CliRunner

from smsgate.simulator import SimulatorConfig, running_simulator
from smsgate.simulator.cli import app
from smsgate.simulator.control import control_server
from smsgate.simulator.faults import Faults, parse_faults
from smsgate.smpp.client import BindFailed, NotAcknowledged
from smsgate.smpp.constants import CommandStatus, Tag

S = CommandStatus


async def test_throttle_and_queue_full_rates_answer_without_an_id_and_switch_off_at_run_time() -> (
    None
):
    async with (
        simulator(faults=Faults(throttle_rate=1.0)) as sim,
        esme(sim, throttle_retries=0) as (client, _),
    ):
        await client.wait_bound(T)
        throttled = await asyncio.wait_for(client.submit(submit("380501230008")), T)
        assert throttled.command_status == S.ESME_RTHROTTLED
        sim.set_faults(throttle_rate=0.0, queue_full_rate=1.0)
        full = await asyncio.wait_for(client.submit(submit("380501230008")), T)
        assert full.command_status == S.ESME_RMSGQFUL
        sim.set_faults(queue_full_rate=0.0)
        ok = await asyncio.wait_for(client.submit(submit("380501230008")), T)
        assert ok.command_status == S.ESME_ROK and ok.message_id
        assert sim.counters.faults == {"throttle": 1, "queue_full": 1}
        assert sim.counters.submits == 1 and sim.counters.refused == 2


async def test_a_rate_below_one_hits_about_that_share_of_submits() -> None:
    async with (
        simulator(faults=Faults(throttle_rate=0.3), seed=7) as sim,
        esme(sim, throttle_retries=0, window=50) as (client, _),
    ):
        await client.wait_bound(T)
        answers = await asyncio.wait_for(
            asyncio.gather(*(client.submit(submit("380501230008", 0)) for _ in range(400))), T
        )
        throttled = sum(a.command_status == S.ESME_RTHROTTLED for a in answers)
        assert 80 <= throttled <= 160
        assert sim.counters.submits == 400 - throttled


async def test_lost_and_malformed_answers_leave_the_request_to_its_response_timer() -> None:
    async with (
        simulator(faults=Faults(lost_rate=1.0)) as sim,
        esme(sim, response_timeout=0.3) as (client, _),
    ):
        await client.wait_bound(T)
        with pytest.raises(NotAcknowledged, match="response timeout"):
            await asyncio.wait_for(client.submit(submit("380501230008")), T)
        sim.set_faults(lost_rate=0.0, malformed_rate=1.0)
        with pytest.raises(NotAcknowledged, match="response timeout"):
            await asyncio.wait_for(client.submit(submit("380501230008")), T)
        assert sim.counters.faults == {"lost": 1, "malformed": 1}
        assert sim.counters.submits == 0
        sim.set_faults(malformed_rate=0.0)
        ok = await asyncio.wait_for(client.submit(submit("380501230008")), T)
        assert ok.command_status == S.ESME_ROK  # the bind survived the undecodable answer


async def test_a_slow_answer_comes_after_its_delay_and_its_receipt_after_it() -> None:
    async with (
        simulator(faults=Faults(slow_rate=1.0, slow_delay=0.3)) as sim,
        esme(sim) as (client, receipts),
    ):
        await client.wait_bound(T)
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await asyncio.wait_for(client.submit(submit("380501230008")), T)
        assert loop.time() - started >= 0.3
        assert answer.command_status == S.ESME_ROK
        await until(lambda: receipts)
        assert receipts[0].tlvs[Tag.RECEIPTED_MESSAGE_ID] == answer.message_id


async def test_an_early_receipt_arrives_before_the_response_carrying_its_id() -> None:
    async with (
        simulator(receipt_delay=5.0, faults=Faults(early_receipt_rate=1.0)) as sim,
        esme(sim) as (client, receipts),
    ):
        await client.wait_bound(T)
        answer = await asyncio.wait_for(client.submit(submit("380501230008")), T)
        # Already there when the response is: it was read first, despite a 5 s receipt delay.
        assert [r.tlvs[Tag.RECEIPTED_MESSAGE_ID] for r in receipts] == [answer.message_id]
        assert sim.counters.faults == {"early_receipt": 1}


async def test_a_stray_receipt_names_an_id_never_issued() -> None:
    async with (
        simulator(faults=Faults(unknown_receipt_rate=1.0)) as sim,
        esme(sim) as (client, receipts),
    ):
        await client.wait_bound(T)
        answer = await asyncio.wait_for(client.submit(submit("380501230008")), T)
        await until(lambda: len(receipts) == 2)
        ids = {str(r.tlvs[Tag.RECEIPTED_MESSAGE_ID]) for r in receipts}
        (stray,) = ids - {answer.message_id}
        with pytest.raises(KeyError):
            sim.handler.outcome_of(stray)
        assert sim.counters.faults == {"unknown_receipt": 1}


async def test_refused_binds_are_answered_with_the_status_then_binding_works_again() -> None:
    async with simulator(faults=Faults(refuse_binds=2)) as sim, esme(sim) as (client, _):
        await client.wait_bound(T)
        assert sim.counters.faults == {"refused_bind": 2}
        assert client.counters.reconnects == 2
        assert isinstance(client.last_error, BindFailed)
        assert client.last_error.command_status == S.ESME_RBINDFAIL
        assert sim.faults.refuse_binds == 0


async def test_drop_after_set_at_run_time_drops_the_connection_mid_window() -> None:
    async with simulator() as sim, esme(sim, window=10) as (client, _):
        await client.wait_bound(T)
        sim.set_faults(drop_after=3)
        answers = await asyncio.wait_for(
            asyncio.gather(
                *(client.submit(submit("380501230008", 0)) for _ in range(8)),
                return_exceptions=True,
            ),
            T,
        )
        lost = [a for a in answers if isinstance(a, NotAcknowledged)]
        assert lost and all(a.reason == "connection lost" for a in lost)
        assert sim.counters.dropped_connections == 1


async def test_counters_stay_bounded_however_many_destinations_and_ids() -> None:
    async with (
        simulator(track_destinations=10, remember_ids=4) as sim,
        esme(sim, window=30) as (client, _),
    ):
        await client.wait_bound(T)
        answers = await asyncio.wait_for(
            asyncio.gather(*(client.submit(submit(f"3805012{i:04d}8", 0)) for i in range(30))), T
        )
        counters = sim.counters
        assert len(counters.by_destination) == 10 and counters.untracked == 20
        assert sum(counters.by_destination.values()) + counters.untracked == 30
        assert counters.outcomes == {None: 30}  # aggregate: no key per message
        assert sim.handler.outcome_of(answers[-1].message_id) is None
        with pytest.raises(KeyError):  # older than the last four: forgotten
            sim.handler.outcome_of(answers[0].message_id)


async def test_the_control_surface_reads_counters_and_changes_faults() -> None:
    async with simulator() as sim, control_server(sim, "127.0.0.1", 0) as control:
        port = control.sockets[0].getsockname()[1]

        async def call(request: str) -> tuple[int, dict[str, object]]:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request.encode())
            raw = await asyncio.wait_for(reader.read(), T)
            writer.close()
            head, _, body = raw.partition(b"\r\n\r\n")
            return int(head.split()[1]), json.loads(body)

        body = "throttle_rate=0.5,refuse_binds=1"
        status, faults = await call(
            f"POST /faults HTTP/1.0\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        )
        assert status == 200 and faults["throttle_rate"] == 0.5 and faults["refuse_binds"] == 1
        assert sim.faults.throttle_rate == 0.5
        status, error = await call("POST /faults HTTP/1.0\r\nContent-Length: 7\r\n\r\nbogus=1")
        assert status == 400 and "bogus" in str(error["error"])
        status, error = await call(
            "POST /faults HTTP/1.0\r\nContent-Length: 15\r\n\r\nlost_rate=2.0\r\n"
        )
        assert status == 400 and "between 0 and 1" in str(error["error"])
        status, counters = await call("GET /counters HTTP/1.0\r\n\r\n")
        assert status == 200 and counters["submits"] == 0 and counters["faults"] == {}


def test_faults_parse_from_the_command_line_and_bad_ones_are_usage_errors() -> None:
    assert parse_faults("throttle_rate=0.2, refuse-binds=3") == {
        "throttle_rate": 0.2,
        "refuse_binds": 3,
    }
    result = CliRunner().invoke(app, ["--fault", "nonsense=1"])
    assert result.exit_code == 2 and "NAME=VALUE" in result.output
    result = CliRunner().invoke(app, ["--fault", "throttle_rate=3"])
    assert result.exit_code == 2 and "between 0 and 1" in result.output


async def test_a_simulator_with_no_fault_never_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_simulator(SimulatorConfig(port=0, receipt_delay=0.01)) as sim:
        draws: list[object] = []
        monkeypatch.setattr(sim.handler._draw, "pick", lambda faults: draws.append(faults))
        async with esme(sim) as (client, _):
            await client.wait_bound(T)
            await asyncio.wait_for(client.submit(submit("380501230008", 0)), T)
        assert draws == []  # the benchmark path stays as it was
