"""Run a simulator in-process: `async with running_simulator(config) as sim` inside a loop, or
`SimulatorThread(config)` with start()/stop() for synchronous code (like aiosmtpd's Controller).

These are the simulator's stable embedding API; `smsgate serve` and the tests use nothing else.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from smsgate.simulator.config import SimulatorConfig
from smsgate.simulator.faults import Faults
from smsgate.simulator.handler import SimulatorCounters, SimulatorHandler
from smsgate.smpp.server import SmppServer


@dataclass(slots=True)
class Simulator:
    """A running simulator: where it listens and what it has seen."""

    config: SimulatorConfig
    server: SmppServer
    handler: SimulatorHandler

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def counters(self) -> SimulatorCounters:
        return self.handler.counters

    @property
    def faults(self) -> Faults:
        return self.handler.faults

    def set_faults(self, **changes: float | int) -> Faults:
        """Change faults at run time, e.g. `set_faults(throttle_rate=0.3)` or `refuse_binds=2`;
        the connection-level switches drop_after and never_answer go by name too. Returns the
        faults now in force; unknown names raise TypeError, bad values ValueError."""
        config = self.config
        if "drop_after" in changes:
            drop_after = changes.pop("drop_after")
            config.drop_after = int(drop_after) if drop_after >= 0 else None
        if "never_answer" in changes:
            config.never_answer = bool(changes.pop("never_answer"))
        self.handler.set_faults(self.handler.faults.changed(**changes))
        return self.handler.faults


def build_server(config: SimulatorConfig) -> Simulator:
    handler = SimulatorHandler(config)
    server = SmppServer(
        handler,
        config.host,
        config.port,
        system_id=config.system_id,
        window=config.window,
        session_init_timeout=config.session_init_timeout,
        inactivity_timeout=config.inactivity_timeout,
        enquire_link_interval=config.enquire_link_interval,
    )
    return Simulator(config, server, handler)


@asynccontextmanager
async def running_simulator(config: SimulatorConfig | None = None) -> AsyncIterator[Simulator]:
    """Listen until the block ends, then unbind every peer and stop."""
    sim = build_server(config or SimulatorConfig())
    await sim.server.start()
    try:
        yield sim
    finally:
        sim.handler.cancel_timers()
        await sim.server.stop(timeout=2.0)


class SimulatorThread:
    """A simulator on its own event loop in a daemon thread."""

    def __init__(self, config: SimulatorConfig | None = None, *, ready_timeout: float = 5.0):
        self.config = config or SimulatorConfig()
        self.ready_timeout = ready_timeout
        self.simulator: Simulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        assert self.simulator is not None, "start() first"
        return self.simulator.port

    @property
    def counters(self) -> SimulatorCounters:
        assert self.simulator is not None, "start() first"
        return self.simulator.counters

    def set_faults(self, **changes: float | int) -> Faults:
        """Simulator.set_faults, run on the simulator's own loop."""
        assert self.simulator is not None and self._loop is not None, "start() first"
        call = _call(self.simulator.set_faults, changes)
        return asyncio.run_coroutine_threadsafe(call, self._loop).result(5)

    def start(self) -> SimulatorThread:
        self._thread = threading.Thread(target=self._main, name="smpp-simulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.ready_timeout):
            raise TimeoutError("the simulator did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> SimulatorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with running_simulator(self.config) as sim:
                self.simulator = sim
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:
            self._error = exc
            self._ready.set()


async def _call(method: Callable[..., Faults], changes: dict[str, float | int]) -> Faults:
    return method(**changes)
