"""What the HTTP transports' tests (per-message callbacks, webhook endpoints, inbound webhooks)
stand on: a real local receiver and the real sender, allowed to call it on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from webhooks.receiver import Receiver, running_receiver

from smsgate.webhooks.sender import HttpSender, SenderSettings


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as r:
        yield r


@pytest.fixture
async def sender() -> AsyncIterator[HttpSender]:
    async with HttpSender(SenderSettings(allow_private=True, total_timeout=2.0)) as s:
        yield s
