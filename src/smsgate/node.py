"""One node: the store, the connectors, the dispatcher, the doors and (in demo mode) the
simulator, started and stopped together in one asyncio loop.

This is wiring only, the one place besides cli.py that knows every room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import uvicorn
from prometheus_client import generate_latest

from smsgate import process_tuning
from smsgate.config import Settings, state_dir
from smsgate.domain.ids import IdGenerator
from smsgate.domain.optout import OptOutWords
from smsgate.domain.phone import PhoneNormalizer
from smsgate.doors.app import DASHBOARD_PREFIX, Mount, build_app
from smsgate.doors.dashboard.app import Dashboard
from smsgate.doors.dashboard.session import SessionCodec, shared_secret
from smsgate.doors.http_protocol import HttpLimits, protocol_class
from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.callbacks import CallbackTransport
from smsgate.gateway.connector import Connector
from smsgate.gateway.dispatcher import Dispatcher, DispatchPolicy
from smsgate.gateway.facade import Gateway
from smsgate.gateway.holder_file import HolderFile
from smsgate.gateway.inbound_intake import InboundIntake
from smsgate.gateway.leases import LeaseKeeper, default_holder, take_node_id
from smsgate.gateway.metrics import REGISTRY
from smsgate.gateway.operator_desk import OperatorDesk
from smsgate.gateway.operator_results import OperatorResults, answer_delay
from smsgate.gateway.outbox.outbox import Outbox, OutboxLeases
from smsgate.gateway.outbox.pump import PumpPolicy
from smsgate.gateway.outbox_depth import OutboxDepthWatch
from smsgate.gateway.receipt_watch import ReceiptWatch, WatchPolicy
from smsgate.gateway.retention import DAY, RetentionPolicy, RetentionSweeper
from smsgate.gateway.router import Route, Router
from smsgate.gateway.self_service import SelfService
from smsgate.gateway.submit import SubmitPolicy, Submitter
from smsgate.gateway.webhooks import WebhookTransport
from smsgate.http_server import QuietServer
from smsgate.metrics_listener import MetricsListener
from smsgate.store.sql_store import SqlStore
from smsgate.webhooks.sender import HttpSender, SenderSettings

log = logging.getLogger(__name__)

_PROBE_TIMEOUT = 2.0  # seconds /health/ready waits for the database before calling it unreachable
# Seconds a worker with `defer_callbacks` leaves an account's callbacks to the other workers.
CALLBACK_DEFER = 1.0


@dataclass(slots=True)
class NodeAddresses:
    http_port: int
    smpp_port: int | None
    simulator_port: int | None
    metrics_port: int | None = None
    smpp_tls_port: int | None = None
    http_scheme: str = "http"  # "https" when [http] tls_cert and tls_key are set


async def _write_metrics(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The supervisor's scrape of this worker: the exposition, then the connection closed."""
    try:
        writer.write(generate_latest(REGISTRY))
        await writer.drain()
    except OSError:
        pass  # the supervisor gave up on this scrape
    finally:
        writer.close()


async def _closed(server: asyncio.Server) -> None:
    # Not wait_closed(): the socket belongs to the supervisor, which keeps it for the restart.
    server.close()


class Node:
    """`http_socket`: a listening socket to serve HTTP on instead of binding http.port (the
    workers supervisor binds one per worker slot, with SO_REUSEPORT on Linux, and passes it
    down).

    `metrics_socket`: a listening socket on which this node writes its metrics to whoever
    connects (the workers supervisor, which serves its workers' metrics as one); without one,
    the node serves [metrics] port itself."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_socket: socket.socket | None = None,
        metrics_socket: socket.socket | None = None,
    ) -> None:
        self.settings = settings
        self.store = SqlStore(settings.database.url, synchronous=settings.database.synchronous)
        self.holder = settings.node.holder or default_holder()
        self.node_id = settings.node_id  # the configured base until start() leases one
        self.lost = asyncio.Event()  # set when a lease is lost: the node must stop
        self.lost_reason = ""
        self.draining = False  # set when stop() begins: /health/ready says so
        self._drain_deadline = 0.0  # time.monotonic() by which stop() stops waiting for work
        self._http_socket = http_socket
        self._metrics_socket = metrics_socket
        self._leases: LeaseKeeper | None = None
        self._stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self.connectors: list[Connector] = []
        self.dispatcher: Dispatcher | None = None
        self.gateway: Gateway | None = None
        self.inbound: InboundIntake | None = None
        self._submitter: Submitter | None = None
        self._http: QuietServer | None = None
        self._http_task: asyncio.Future[None] | None = None
        self.addresses = NodeAddresses(settings.http.port, None, None)

    async def start(self) -> None:
        settings = self.settings
        patience = settings.node.lease_ttl
        if not settings.node.holder:
            # The holder name of this node's last life on this machine, if it died: its own
            # node lease then renews at once (see holder_file.py), and nothing is worth waiting
            # for. Only without a usable file does a restart wait out the old lease.
            holder_file = HolderFile(state_dir(settings) / f"node-{settings.node_id}.holder")
            kept = holder_file.claim(self.holder)
            if kept is not None:
                self.holder = kept
                self._stack.callback(holder_file.release)
            if kept is not None or holder_file.locked_elsewhere:
                patience = 0.0
        await self.store.open()
        self._stack.push_async_callback(self.store.close)
        # Unwound just before the store closes, after everything else: no background task
        # (a lease round, the HTTP server's last requests) may reach a closed store.
        self._stack.push_async_callback(self._end_tasks)
        # No node runs without its own id: two live nodes minting one id space would collide.
        self.node_id = await take_node_id(
            self.store, settings.node_id, self.holder, settings.node.lease_ttl, patience=patience
        )
        self.store.node_id = self.node_id
        log.info("node id %d (lease holder %s)", self.node_id, self.holder)

        if settings.simulator.enabled:
            await self._start_simulator()

        bound = any(c.bound_resends for c in settings.connectors)
        results = OperatorResults(self.store, answer_delay=answer_delay(bound))
        self._stack.push_async_callback(results.drain)
        phones = PhoneNormalizer(settings.default_region)
        self.inbound = InboundIntake(
            self.store,
            words=OptOutWords.of(settings.inbound.stop_words, settings.inbound.start_words),
            timeout=settings.inbound.reassembly_timeout,
            phones=phones,
            opted=lambda _account: self._suppressions_changed(),
            node_id=self.node_id,
        )
        await self.inbound.load()  # the parts of long MO its last life kept, before any new
        # Unwound after the connectors are closed: no part comes in while it stores the rest.
        self._stack.push_async_callback(self.inbound.stop)
        self._spawn(self.inbound.run())
        self.connectors = [
            Connector(c, results.receipts, inbound=self.inbound) for c in settings.connectors
        ]
        self._leases = LeaseKeeper(
            self.store,
            self.holder,
            self.node_id,
            self.connectors,
            self._lose,
            node_ttl=settings.node.lease_ttl,
            connector_ttl=settings.node.connector_lease_ttl,
            defer=settings.node.defer_connectors,
        )
        # Unwound after the connectors are closed: leases are given back only once unbound.
        self._stack.push_async_callback(self._leases.release)
        for connector in self.connectors:
            self._stack.push_async_callback(connector.close)
        await self._leases.tick()  # binds the connectors no live node holds
        self._spawn(self._leases.run())
        router = Router(
            [Route(r.prefix, tuple(r.connectors)) for r in settings.routes], self.connectors
        )
        self.dispatcher = Dispatcher(
            self.store,
            router,
            self.connectors,
            node_id=self.node_id,
            policy=DispatchPolicy(
                batch=settings.dispatch.batch,
                claim_ttl=settings.dispatch.claim_ttl,
                retry_backoff=settings.dispatch.retry_backoff,
                retry_backoff_max=settings.dispatch.retry_backoff_max,
            ),
            submitted=results.submitted,
        )
        results.recorded = self.dispatcher.recorded
        self._spawn(self.dispatcher.run())
        watch = WatchPolicy(
            every=settings.dispatch.receipt_watch_every, grace=settings.dispatch.receipt_grace
        )
        self._spawn(ReceiptWatch(self.store, self.connectors, policy=watch).run())
        dispatcher = self.dispatcher
        self._stack.push_async_callback(lambda: dispatcher.stop(timeout=self._drain_left()))

        self._start_retention()
        accounts = AccountCache(self.store)
        submitter = Submitter(
            self.store,
            accounts,
            IdGenerator(self.node_id),
            phones=phones,
            policy=SubmitPolicy(
                default_lifetime_minutes=settings.default_lifetime_minutes,
                dedupe_window=settings.dedupe_window_seconds,
                allow_private_callbacks=settings.callbacks.allow_private,
            ),
        )
        self._submitter = submitter
        # One node pumps an account's outbox at a time, whichever nodes can reach it.
        outbox = Outbox(
            self.store, OutboxLeases(self.store, self.holder, settings.node.receipt_lease_ttl)
        )
        gateway = Gateway(submitter, accounts, self.store, outbox)
        self.gateway = gateway
        await self._start_callbacks(outbox)
        if settings.smpp.enabled:
            from smsgate.doors.smpp.door import SmppDoor

            door = SmppDoor(
                gateway,
                settings.smpp,
                assembly_timeout=settings.smpp.assembly_timeout,
                write_stall_timeout=settings.smpp.write_stall_timeout,
                max_connections=settings.smpp.max_connections,
            )
            await door.start()
            self._stack.push_async_callback(door.stop)
            self.addresses.smpp_port = door.port
            self.addresses.smpp_tls_port = door.tls_port
        await self._start_metrics()
        await self._start_http(gateway)

    def _suppressions_changed(self) -> None:
        if self._submitter is not None:
            self._submitter.suppressions_changed()

    async def _start_callbacks(self, outbox: Outbox) -> None:
        """The pumps of per-message callbacks and of webhook endpoints: any node sends them,
        one node per account and kind."""
        cfg = self.settings.callbacks
        sender = HttpSender(
            SenderSettings(
                connect_timeout=cfg.connect_timeout,
                total_timeout=cfg.total_timeout,
                max_connections=cfg.max_connections,
                max_per_receiver=cfg.max_connections_per_receiver,
                allow_private=cfg.allow_private,
            )
        )
        self._stack.push_async_callback(sender.aclose)
        # A worker that bids for the operator connectors first leaves these to the others.
        defer = CALLBACK_DEFER if self.settings.node.defer_callbacks else 0.0
        pump = outbox.pump(
            CallbackTransport(sender), PumpPolicy(batch=cfg.batch, pipeline=4), defer=defer
        )
        await pump.start()
        self._stack.push_async_callback(pump.stop)
        # Webhook endpoints share the sender's connections. One batch of an account at a
        # time: an endpoint's events go in order, its later ones waiting behind a retry.
        webhooks = outbox.pump(
            WebhookTransport(sender, self.store), PumpPolicy(batch=cfg.batch), defer=defer
        )
        await webhooks.start()
        self._stack.push_async_callback(webhooks.stop)

    def _lose(self, reason: str) -> None:
        self.lost_reason = reason
        self.lost.set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.ensure_future(coro))

    async def _start_simulator(self) -> None:
        from smsgate.simulator.config import SimulatorConfig
        from smsgate.simulator.running import running_simulator

        sim = self.settings.simulator
        config = SimulatorConfig(
            host=sim.host,
            port=sim.port,
            credentials=[(sim.system_id, sim.password)],
            receipt_delay=sim.receipt_delay,
        )
        running = await self._stack.enter_async_context(running_simulator(config))
        self.addresses.simulator_port = running.port
        if sim.control_port is not None:
            from smsgate.simulator.control import control_server

            try:
                await self._stack.enter_async_context(
                    control_server(running, sim.host, sim.control_port)
                )
            except OSError as exc:  # a convenience of the demo: the node runs without it
                log.warning("simulator control port %d not served: %s", sim.control_port, exc)

    def _start_retention(self) -> None:
        kept = self.settings.retention
        if kept.erase_text_after_days is None and kept.delete_after_days is None:
            return
        policy = RetentionPolicy(
            erase_text_after=None
            if kept.erase_text_after_days is None
            else kept.erase_text_after_days * DAY,
            delete_after=None if kept.delete_after_days is None else kept.delete_after_days * DAY,
            every=kept.every,
        )
        # Ended with the other tasks, before the store closes (_end_tasks).
        self._spawn(RetentionSweeper(self.store, self.holder, policy).run())

    async def _start_metrics(self) -> None:
        if self._metrics_socket is not None:
            server = await asyncio.start_server(_write_metrics, sock=self._metrics_socket)
            self._stack.push_async_callback(_closed, server)
        else:
            settings = self.settings.metrics
            if settings.port is None:
                return  # nobody scrapes this node: no outbox depth to read either
            listener = MetricsListener(
                settings.host, settings.port, settings.token, lambda: generate_latest(REGISTRY)
            )
            listener.start()
            self._stack.callback(listener.stop)
            self.addresses.metrics_port = listener.port
        # Ended with the other tasks, before the store closes (_end_tasks).
        self._spawn(OutboxDepthWatch(self.store).run())

    async def _start_http(self, gateway: Gateway) -> None:
        http = self.settings.http
        # One secret for every node and worker on this machine: any of them serves any page.
        secret = shared_secret(state_dir(self.settings) / "dashboard-secret")
        dashboard = Mount(
            DASHBOARD_PREFIX,
            Dashboard(
                gateway,
                SelfService(self.store, gateway.accounts),
                OperatorDesk(self.store, gateway.accounts),
                SessionCodec(secret),
                self.health,
                tuple((r.prefix, tuple(r.connectors)) for r in self.settings.routes),
            ),
        )
        app = build_app(
            gateway,
            self.health,
            ready=self.ready,
            max_body=http.max_body_bytes,
            access=self.settings.log.access,
            mounts=[dashboard],
        )
        limits = HttpLimits(
            max_connections=http.max_connections,
            header_timeout=http.header_timeout,
            body_timeout=http.body_timeout,
            stall_timeout=http.stall_timeout,
        )
        config = uvicorn.Config(
            app,
            host=http.host,
            port=http.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http=protocol_class(limits),  # uvicorn's httptools protocol, with those limits
            proxy_headers=False,  # nothing reads the client address; it costs a wrapper call
            server_header=False,  # no "server: uvicorn" on every answer: it tells strangers only
            timeout_keep_alive=http.keep_alive_timeout,
            loop="none",
            # uvicorn wraps every listener in TLS with these, the workers' inherited sockets too.
            ssl_certfile=http.tls_cert,
            ssl_keyfile=http.tls_key,
        )
        self._http = QuietServer(config)
        sockets = None if self._http_socket is None else [self._http_socket]
        self._http_task = asyncio.ensure_future(self._http.serve(sockets=sockets))
        self._tasks.append(self._http_task)
        # Pushed last, so unwound first: no request starts once the node begins stopping.
        self._stack.push_async_callback(self._stop_http)
        for _ in range(500):
            if self._http.started:
                break
            await asyncio.sleep(0.01)
        if not self._http.started:
            raise RuntimeError(f"HTTP listener did not start on port {self.settings.http.port}")
        sockets = [s for server in self._http.servers for s in server.sockets]
        if sockets:
            self.addresses.http_port = sockets[0].getsockname()[1]
        if http.tls_cert is not None:
            self.addresses.http_scheme = "https"

    def _drain_left(self) -> float:
        if not self._drain_deadline:
            return self.settings.node.drain_timeout
        return max(0.0, self._drain_deadline - time.monotonic())

    async def ready(self) -> dict[str, object]:
        """/health/ready: ready to take traffic when the database answers, every route has a
        connector bound (here, or held by another node's live connector lease), and this
        node is not draining. The reasons it is not are in the body."""
        reasons: list[str] = []
        if self.draining:
            reasons.append("draining: the node is stopping")
        bound_here = {c.name for c in self.connectors if c.describe()["bound"]}
        leased: set[str] = set()
        database = "ok"
        try:
            leases = await asyncio.wait_for(self.store.live_leases(time.time()), _PROBE_TIMEOUT)
            # Held by another node: bound there, as far as this node can tell (a holder
            # that cannot bind keeps retrying, as this node's own connectors do).
            leased = {
                key.removeprefix("connector:")
                for key, (holder, _) in leases.items()
                if key.startswith("connector:") and holder != self.holder
            }
        except Exception as exc:  # any failure to read is "not reachable", with its cause
            database = f"unreachable: {type(exc).__name__} {exc}".rstrip()
            reasons.append(f"database {database}")
        routes: dict[str, object] = {}
        for route in self._routes():
            bound = [n for n in route.connectors if n in bound_here or n in leased]
            routes[route.prefix or "*"] = bound
            if not bound:
                listed = ", ".join(route.connectors)
                reasons.append(f"route {route.prefix or '*'}: none of {listed} is bound")
        return {
            "ready": not reasons,
            "reasons": reasons,
            "node_id": self.node_id,
            "database": database,
            "draining": self.draining,
            "routes": routes,
        }

    def _routes(self) -> list[Route]:
        if self.settings.routes:
            return [Route(r.prefix, tuple(r.connectors)) for r in self.settings.routes]
        names = tuple(c.name for c in self.settings.connectors)
        return [Route("", names)] if names else []

    async def health(self) -> dict[str, object]:
        connectors = {c.name: self._describe(c) for c in self.connectors}
        return {
            "ok": True,
            "node_id": self.node_id,
            "time": time.time(),
            "connectors": connectors,
            "in_flight": self.dispatcher.in_flight if self.dispatcher else 0,
        }

    def _describe(self, connector: Connector) -> dict[str, object]:
        """A connector as /health shows it; one another node binds says which (from the lease
        keeper's last round), so `smsgate admin connectors list` does not call it down."""
        described = connector.describe()
        elsewhere = None if self._leases is None else self._leases.held_elsewhere(connector.name)
        if elsewhere is not None:
            holder, node_id = elsewhere
            described["held_by"] = {"node_id": node_id, "holder": holder}
        return described

    async def _stop_http(self) -> None:
        """Stop accepting and let the requests in flight finish (uvicorn's own shutdown)."""
        if self._http is None or self._http_task is None:
            return
        self._http.exit()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(self._http_task), self._drain_left())

    async def _end_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def stop(self) -> None:
        """Stop in the order things depend on each other (the exit stack unwinds what start()
        pushed in reverse): the HTTP door, the SMPP door, the dispatcher, the connectors, the
        leases given back, the operator results written, the background tasks ended, and only
        then the store closed. Never the store first: a lease round or a request still running
        would meet a closed store ('the store is not open').

        First, for [node] ready_grace seconds, only /health/ready changes (503): requests
        are still taken while a load balancer notices, unless or until a lease is lost. Then
        waiting for work in flight (requests, parts at the operator) is bounded by [node]
        drain_timeout; the leases are handed back in any case."""
        self.draining = True
        # Not once a lease is lost: another node may hold this id then, and ids must not repeat.
        grace = 0.0 if self.lost.is_set() else self.settings.node.ready_grace
        if grace:
            log.info(
                "node %d stopping: /health/ready answers 503, requests taken %.1f s more",
                self.node_id,
                grace,
                extra={"event": "node_unready", "ready_grace": grace},
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.lost.wait(), grace)
        began = time.monotonic()
        timeout = self.settings.node.drain_timeout
        self._drain_deadline = began + timeout
        in_flight = self.dispatcher.in_flight if self.dispatcher else 0
        log.info(
            "node %d stopping: draining (at most %.0f s), %d parts at the operator",
            self.node_id,
            timeout,
            in_flight,
            extra={"event": "node_draining", "drain_timeout": timeout, "in_flight": in_flight},
        )
        await self._stack.aclose()
        await self._end_tasks()  # a start() that failed half way pushed no _end_tasks
        took = round(time.monotonic() - began, 3)
        log.info(
            "node %d stopped after %.1f s, its leases handed back",
            self.node_id,
            took,
            extra={"event": "node_stopped", "seconds": took},
        )


def descriptors_wanted(settings: Settings) -> int:
    """Descriptors a node may need at once: every connection its caps let in, the callbacks'
    connections, and the rest (process_tuning.DESCRIPTOR_HEADROOM)."""
    smpp = settings.smpp
    smpp_ports = (1 + (smpp.tls_port is not None)) if smpp.enabled else 0
    return (
        settings.http.max_connections
        + smpp.max_connections * smpp_ports
        + settings.callbacks.max_connections
        + process_tuning.DESCRIPTOR_HEADROOM
    )


async def serve(
    settings: Settings,
    *,
    http_socket: socket.socket | None = None,
    metrics_socket: socket.socket | None = None,
    started: Callable[[Node], Awaitable[None]] | None = None,
) -> int:
    """Run one node until SIGINT/SIGTERM (exit status 0) or until it loses a lease (3)."""
    process_tuning.use_short_switch_interval()
    if settings.node.batch_scheduling:
        process_tuning.use_batch_scheduling()
    if settings.node.cpu is not None and process_tuning.pin_to_cpu(settings.node.cpu):
        log.info(
            "node %d runs on CPU %d",
            settings.node_id,
            settings.node.cpu,
            extra={"event": "node_cpu", "cpu": settings.node.cpu},
        )
    process_tuning.raise_descriptor_limit(descriptors_wanted(settings))
    node = Node(settings, http_socket=http_socket, metrics_socket=metrics_socket)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # signal.signal, not loop.add_signal_handler: uvicorn swaps handlers with signal.signal while
    # it serves and re-raises the signal to the previous handler (this one) when it is done.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    await node.start()
    process_tuning.tune_garbage_collector()
    try:
        if started is not None:
            await started(node)
        print(
            f"smsgate node {node.node_id} listening on "
            f"{node.addresses.http_scheme}://{settings.http.host}:{node.addresses.http_port}",
            flush=True,
        )
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(node.lost.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
    finally:
        await node.stop()
    if node.lost.is_set():
        log.error("node %d stopped: %s", node.node_id, node.lost_reason)
        return 3
    return 0
