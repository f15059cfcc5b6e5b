"""A webhook endpoint an account adds through /api/v1/webhooks (with the SDK) gets the account's
events from a real node, signed with the secret the answer showed (verified with the
standardwebhooks package); after a rotation, with both secrets until it is finished."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from smsgate.client import AsyncNativeClient
from smsgate.config import demo_settings, load_settings
from smsgate.gateway.demo_account import DemoCredentials, ensure_demo_account
from smsgate.node import Node

T = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """An HTTP/1.1 server on 127.0.0.1 that answers 204 to every POST and keeps what came."""

    def __init__(self) -> None:
        self.got: asyncio.Queue[tuple[dict[str, str], bytes]] = asyncio.Queue()
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hook"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                await self.got.put((headers, body))
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[DemoCredentials, str]]:
    settings = demo_settings(  # the demo allows callbacks to loopback addresses
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/hooks.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            simulator={"port": free_port(), "receipt_delay": 0.05},
        )
    )
    n = Node(settings)
    await asyncio.wait_for(n.start(), T)
    try:
        creds = await ensure_demo_account(n.store, tmp_path / "demo.json")
        yield creds, f"http://127.0.0.1:{n.addresses.http_port}"
    finally:
        await asyncio.wait_for(n.stop(), T)


async def delivered(receiver: Receiver, message_id: str) -> tuple[dict[str, str], bytes]:
    """The first delivery about `message_id` (earlier ones, of other messages, are skipped)."""
    async with asyncio.timeout(T):
        while True:
            headers, body = await receiver.got.get()
            if json.loads(body)["data"].get("id") == message_id:
                return headers, body


async def test_an_endpoint_added_by_the_api_gets_signed_events(
    node: tuple[DemoCredentials, str],
) -> None:
    creds, base = node
    receiver = Receiver()
    url = await receiver.start()
    try:
        async with AsyncNativeClient(base, creds.token, timeout=5) as api:
            endpoint = await api.add_webhook(url, events=["message.status"])
            assert endpoint.secret is not None and endpoint.enabled
            sent = await api.send("380501230000", "Hello, hook", creds.sender)
            headers, body = await delivered(receiver, sent.ids[0])
            event = Verifier(endpoint.secret).verify(body, headers)
            assert event["type"] == "message.status"
            assert event["data"]["status"] == "DELIVRD"

            # A rotation: both secrets sign until it is finished, then only the new one.
            rotated = await api.rotate_webhook_secret(endpoint.id)
            assert rotated.secret is not None and rotated.rotating
            sent = await api.send("380501230000", "Hello again", creds.sender)
            headers, body = await delivered(receiver, sent.ids[0])
            Verifier(endpoint.secret).verify(body, headers)
            Verifier(rotated.secret).verify(body, headers)
            assert not (await api.finish_webhook_rotation(endpoint.id)).rotating
            sent = await api.send("380501230000", "Third", creds.sender)
            headers, body = await delivered(receiver, sent.ids[0])
            Verifier(rotated.secret).verify(body, headers)
            with pytest.raises(WebhookVerificationError):
                Verifier(endpoint.secret).verify(body, headers)

            assert [w.id for w in await api.webhooks()] == [endpoint.id]
            await api.remove_webhook(endpoint.id)
            assert await api.webhooks() == []
    finally:
        await receiver.close()
