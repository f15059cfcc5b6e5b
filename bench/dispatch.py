"""Dispatcher to operator from a backlog: the node starts with its connector pointing at a port
where no simulator listens yet, takes N messages over /sms/send, and only then the simulator
starts; prints submit_sm/s until the queue is empty and the gateway's CPU time per message.

Receipts are held back (a long receipt delay) so the figure is the dispatch path alone; it
changes nothing in src/.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from e2e import metric, part_states, send_paced, top_up
from harness import GatewayProcess, cpu_seconds, machine


class BacklogGateway(GatewayProcess):
    """A node whose operator is not up yet: start() runs the node alone and waits for HTTP
    only; start_operator() starts the simulator later."""

    def start(self) -> None:
        self.start_gateway(wait_bound=False)


async def run(messages: int, receipt_delay: float, bound_resends: bool) -> None:
    print(f"machine: {machine()}")
    print("gateway, simulator and this load generator share the machine's cores")
    print(f"connector bound_resends = {str(bound_resends).lower()}")
    gw = BacklogGateway(
        receipt_delay=receipt_delay,
        connector_extra=f"bound_resends = {str(bound_resends).lower()}",
    )
    gw.start()
    try:
        top_up(gw, str(messages))
        report = await send_paced(
            gw.http_port, gw.credentials["token"], messages, None, connections=4, tag="backlog"
        )
        db = gw.workdir / "smsgate.db"
        print(f"gateway pid {gw.pid}, work dir {gw.workdir}", flush=True)
        print(
            f"backlog: {report.accepted} accepted in {report.finished - report.started:.1f} s "
            f"(rejected {report.rejected}), parts by state {part_states(db)}",
            flush=True,
        )
        assert metric(gw.metrics_port, "smsgate_parts_submitted_total") == 0
        started = time.perf_counter()
        gw.start_operator()
        first = done = cpu0 = 0.0
        deadline = started + 600
        while time.perf_counter() < deadline:
            submitted = metric(gw.metrics_port, "smsgate_parts_submitted_total")
            now = time.perf_counter()
            if submitted and not first:
                # CPU from here: the connector's reconnect back-off before it is not dispatch.
                first, cpu0 = now, cpu_seconds(gw.pid)
                print(f"first submit_sm acked ({submitted:.0f} so far)", flush=True)
            if submitted >= report.accepted:
                done = now
                break
            await asyncio.sleep(0.05)
        if not done:
            raise TimeoutError(f"queue not drained after 600 s: {part_states(db)}")
        cpu_acked = cpu_seconds(gw.pid) - cpu0
        while part_states(db).get(0, 0) + part_states(db).get(1, 0) and time.perf_counter() < (
            deadline
        ):
            await asyncio.sleep(0.05)
        stored = time.perf_counter()
        cpu = cpu_seconds(gw.pid) - cpu0
        span = done - first
        print(
            f"simulator started; first submit_sm acked after {first - started:.1f} s "
            f"(connector reconnect back-off), parts by state now {part_states(db)}"
        )
        print(
            f"[dispatch] {report.accepted} submit_sm acked in {span:.2f} s from the first ack: "
            f"{report.accepted / span:.0f} submit_sm/s; all stored SUBMITTED "
            f"{stored - first:.2f} s after the first ack "
            f"({report.accepted / (stored - first):.0f}/s); gateway CPU "
            f"{cpu_acked / report.accepted * 1e6:.0f} µs/message until acked, "
            f"{cpu / report.accepted * 1e6:.0f} µs/message until stored"
        )
    finally:
        gw.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--receipt-delay", type=float, default=3600.0)
    parser.add_argument(
        "--free-slots-at-answer",
        action="store_true",
        help="bound_resends = false: a window slot is freed at the answer, not at its write",
    )
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.receipt_delay, not args.free_slots_at_answer))


if __name__ == "__main__":
    main()
