"""Starting and stopping a real simulator in two lines, from async and from sync code."""

from __future__ import annotations

import socket
import struct

from smsgate.simulator import SimulatorConfig, SimulatorThread, running_simulator
from smsgate.smpp.constants import CommandId
from smsgate.smpp.pdu import BindTransmitter, decode, encode


def bind_over_a_plain_socket(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        bind = BindTransmitter(sequence_number=1, system_id="smsgate", password="sim")
        sock.sendall(encode(bind))
        header = sock.recv(4, socket.MSG_WAITALL)
        (length,) = struct.unpack("!I", header)
        answer = decode(header + sock.recv(length - 4, socket.MSG_WAITALL))
        assert answer.command_id == CommandId.BIND_TRANSMITTER_RESP
        return answer.command_status


def test_simulator_thread_serves_sync_code_until_stopped() -> None:
    with SimulatorThread(SimulatorConfig(port=0)) as sim:
        assert bind_over_a_plain_socket(sim.port) == 0
        assert sim.counters.binds == 1
        port = sim.port
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        pass
    else:
        raise AssertionError("the simulator still listens after stop()")


def test_simulator_thread_reports_a_port_already_taken() -> None:
    with SimulatorThread(SimulatorConfig(port=0)) as first:
        second = SimulatorThread(SimulatorConfig(port=first.port))
        try:
            second.start()
        except OSError:
            pass
        else:
            second.stop()
            raise AssertionError("two simulators bound one port")


async def test_running_simulator_picks_a_free_port() -> None:
    async with running_simulator(SimulatorConfig(port=0)) as sim:
        assert sim.port > 0 and sim.host == "127.0.0.1"
        assert sim.counters.binds == 0
