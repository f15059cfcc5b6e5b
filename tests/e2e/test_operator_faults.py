"""A real node against real simulators that misbehave like operators do: each fault, alone, and
the gateway recovers. Every accepted message reaches a final status, money is conserved (each
part the operator took is charged once, nothing stays reserved), and the node logs why it had
to retry or fail over."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from smsgate.config import load_settings
from smsgate.gateway.demo_account import DEMO_PRICE, DEMO_TOP_UP, ensure_demo_account
from smsgate.node import Node
from smsgate.simulator import Simulator, SimulatorConfig, running_simulator
from smsgate.simulator.faults import Faults

from .test_json_end_to_end import free_port, wait_final

MESSAGES = 24
DEAD = object()  # a connector whose host refuses every connect


@asynccontextmanager
async def operators(*faults: Faults | object, **config: object) -> AsyncIterator[list[Simulator]]:
    async with AsyncExitStack() as stack:
        sims = []
        for fault in faults:
            if fault is DEAD:
                sims.append(None)
                continue
            assert isinstance(fault, Faults)
            options: dict[str, object] = {"port": 0, "receipt_delay": 0.05, "faults": fault}
            options.update(config)
            sims.append(
                await stack.enter_async_context(running_simulator(SimulatorConfig(**options)))  # type: ignore[arg-type]
            )
        yield sims  # type: ignore[misc]


@asynccontextmanager
async def gateway(
    tmp_path: Path, sims: Sequence[Simulator | None], *, response_timeout: float = 1.0
) -> AsyncIterator[tuple[Node, httpx.AsyncClient]]:
    """A node whose one route tries the simulators' connectors in the order given."""
    names = [f"op{i}" for i in range(len(sims))]
    connectors = [
        {
            "name": name,
            "host": "127.0.0.1",
            "port": sim.port if sim is not None else free_port(),
            "system_id": "smsgate",
            "password": "sim",
            "window": 8,
            "response_timeout": response_timeout,
        }
        for name, sim in zip(names, sims, strict=True)
    ]
    settings = load_settings(
        None,
        database={"url": f"sqlite+aiosqlite:///{tmp_path}/faults.db"},
        http={"host": "127.0.0.1", "port": free_port()},
        smpp={"enabled": False},
        connectors=connectors,
        routes=[{"prefix": "", "connectors": names}],
        dispatch={"retry_backoff": 0.05, "retry_backoff_max": 0.3},
    )
    node = Node(settings)
    await asyncio.wait_for(node.start(), 20)
    try:
        creds = await ensure_demo_account(node.store, tmp_path / "demo.json")
        base = f"http://127.0.0.1:{node.addresses.http_port}"
        headers = {"Authorization": f"Bearer {creds.token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
            yield node, client
    finally:
        await asyncio.wait_for(node.stop(), 20)


async def send_all_and_settle(node: Node, client: httpx.AsyncClient, timeout: float = 20) -> None:
    """Send MESSAGES messages; each must end DELIVRD and be charged exactly once."""
    phones = [f"3805077{i:04d}8" for i in range(MESSAGES)]  # ending 8: no magic number
    accepted: dict[str, str] = {}
    for start in range(0, MESSAGES, 6):
        r = await client.post(
            "/sms/send",
            json={"phone": phones[start : start + 6], "message": "fault", "src_addr": "smsgate"},
        )
        assert r.status_code == 200, r.text
        accepted.update(r.json()["success_request"]["info"])
    assert sorted(accepted.values()) == phones
    statuses = await wait_final(client, list(accepted), timeout)
    assert set(statuses.values()) == {"DELIVRD"}, statuses
    demo = await node.store.credentials("demo")
    assert demo is not None
    balance = await node.store.balance(demo.account.id)
    assert balance.reserved == 0
    assert balance.charged == DEMO_PRICE * MESSAGES
    assert balance.balance + balance.reserved + balance.charged == DEMO_TOP_UP


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


def logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in record.getMessage() for record in caplog.records)


@pytest.fixture(autouse=True)
def _warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="smsgate")


@pytest.mark.parametrize(
    ("faults", "why"),
    [
        (Faults(throttle_rate=0.5), ""),
        (Faults(queue_full_rate=0.5), ""),
        (Faults(slow_rate=0.5, slow_delay=0.3), ""),
        (Faults(lost_rate=0.3), "no answer to SubmitSm in 0.5 s"),
        (Faults(malformed_rate=0.3), "undecodable PDU from the SMSC"),
        (Faults(early_receipt_rate=1.0), ""),
        (Faults(unknown_receipt_rate=1.0), ""),
        (Faults(refuse_binds=2), "bind refused with command_status 0x0000000D (ESME_RBINDFAIL)"),
    ],
    ids=[
        "throttled",
        "queue-full",
        "slow-resp",
        "lost-resp",
        "malformed",
        "early",
        "stray",
        "bind",
    ],
)
async def test_the_gateway_recovers_from_each_operator_fault(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, faults: Faults, why: str
) -> None:
    async with (
        operators(faults) as sims,
        gateway(tmp_path, sims, response_timeout=0.5) as (
            node,
            client,
        ),
    ):
        await send_all_and_settle(node, client)
    assert not why or logged(caplog, why), why
    counters = sims[0].counters
    assert sum(counters.faults.values()) > 0  # the fault did happen
    if faults.unknown_receipt_rate:
        # Stray receipts are acknowledged like any other, not refused into a resend loop.
        assert counters.receipts_acked >= 2 * MESSAGES


async def test_a_connection_dropped_mid_window_is_reconnected_and_its_parts_resent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        operators(Faults(), drop_after=5) as sims,
        gateway(tmp_path, sims) as (node, client),
    ):
        await send_all_and_settle(node, client)
    assert sims[0].counters.dropped_connections >= MESSAGES // 5
    assert logged(caplog, "connection dropped")


async def test_throttling_pauses_the_connector_and_the_route_fails_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        operators(Faults(throttle_rate=1.0), Faults()) as sims,
        gateway(tmp_path, sims) as (node, client),
    ):
        await send_all_and_settle(node, client)
    assert logged(caplog, "throttled, the operator answers 0x00000058 (ESME_RTHROTTLED)")
    assert logged(caplog, "route failover: connector op0 is not ready")
    assert sims[0].counters.submits == 0 and sims[1].counters.submits == MESSAGES


async def test_a_refused_bind_or_connect_fails_over_to_the_next_connector(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        operators(DEAD, Faults(refuse_binds=10**6), Faults()) as sims,
        gateway(tmp_path, sims) as (node, client),
    ):
        await send_all_and_settle(node, client)
    assert logged(caplog, "connector op0: connect refused; retrying in")
    assert logged(caplog, "connector op1: bind refused with command_status 0x0000000D")
    assert sims[2] is not None and sims[2].counters.submits == MESSAGES


async def test_an_operator_that_drops_and_stays_down_hands_its_parts_to_the_next(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with operators(Faults(), Faults()) as sims, gateway(tmp_path, sims) as (node, client):
        first, second = sims
        assert first is not None and second is not None
        await until(lambda: node.connectors[0].ready)
        # The first answers three submits, drops the line and refuses every bind after.
        first.set_faults(drop_after=3, refuse_binds=10**6)
        settled = asyncio.create_task(send_all_and_settle(node, client, timeout=30))
        await until(lambda: second.counters.submits == MESSAGES - 3)
        assert first.counters.submits == 3
        # The receipts of those three wait at the operator for a bind; it comes back.
        first.set_faults(drop_after=-1, refuse_binds=0)
        await settled
        assert first.counters.submits == 3
    assert logged(caplog, "connector op0: connection dropped")
