"""The SMPP door as a service: the SMPP server (plain and TLS) over the door's handler, the
receipt and inbound SMS pumps and the sweep of held long messages, started and stopped
together."""

from __future__ import annotations

from typing import Any

from smsgate.config import SmppDoorSettings, server_tls_context
from smsgate.doors.smpp.handler import SmppDoorHandler
from smsgate.doors.smpp.receipts import RECEIPT_CHUNK
from smsgate.gateway.facade import Gateway
from smsgate.gateway.held_messages import ASSEMBLY_TIMEOUT
from smsgate.gateway.outbox.pump import PumpPolicy
from smsgate.smpp.server import SmppServer

# deliver_sm a bind may have unanswered: receipts stream to a customer at one batch per this
# many round trips, and the server's default (10) held a busy bind to a few thousand a second.
DELIVER_WINDOW = 64


class SmppDoor:
    """The door as a service: `await start()` listens on settings.port (and on tls_port with
    tls_cert/tls_key) and runs the receipt pump; `await stop()` unbinds everyone and stops."""

    def __init__(
        self,
        gateway: Gateway,
        settings: SmppDoorSettings,
        *,
        assembly_timeout: float = ASSEMBLY_TIMEOUT,
        pump_policy: PumpPolicy | None = None,
        receipt_chunk: int = RECEIPT_CHUNK,
        **server_options: Any,
    ) -> None:
        self.settings = settings
        self.handler = SmppDoorHandler(
            gateway,
            assembly_timeout=assembly_timeout,
            pump_policy=pump_policy,
            receipt_chunk=receipt_chunk,
        )
        self._options = {"window": DELIVER_WINDOW, **server_options}
        self.server: SmppServer | None = None
        self.tls_server: SmppServer | None = None

    @property
    def port(self) -> int:
        return self.server.port if self.server is not None else self.settings.port

    @property
    def tls_port(self) -> int | None:
        return self.tls_server.port if self.tls_server is not None else None

    async def start(self) -> None:
        s = self.settings
        self.server = SmppServer(self.handler, s.host, s.port, **self._options)
        await self.server.start()
        if s.tls_port is not None and s.tls_cert and s.tls_key:
            context = server_tls_context(s.tls_cert, s.tls_key)
            self.tls_server = SmppServer(
                self.handler, s.host, s.tls_port, tls=context, **self._options
            )
            await self.tls_server.start()
        await self.handler.receipts.start()
        await self.handler.inbound.start()
        self.handler.held.start()

    async def stop(self) -> None:
        for server in (self.tls_server, self.server):
            if server is not None:
                await server.stop()
        await self.handler.close_submits()
        await self.handler.held.close()
        await self.handler.receipts.stop()
        await self.handler.inbound.stop()
        self.server = None
        self.tls_server = None

    async def __aenter__(self) -> SmppDoor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
