"""A customer's webhooks, failed deliveries and inbound SMS in a real Chromium: a webhook the
receiver refused is listed with its attempt and redelivered by a button once the receiver
works; another account's failed delivery is refused; inbound SMS to the account's number and a
recipient's STOP (an opt-out) appear on the inbound page."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Page, expect

from smsgate.client import AsyncClient, AsyncNativeClient
from smsgate.store.records import NumberRoute
from smsgate.webhooks.signing import new_secret

from .browsing import Customer, Gate, log_in, new_customer, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="package")

DELIVERED = "380501230000"
DEADLINE = 20.0  # seconds for the node to act on its own (its pumps); generous under load


@dataclass
class Receiver:
    """A webhook receiver that refuses (400: a dead letter at once) until told to accept."""

    port: int = 0
    accepting: bool = False
    bodies: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
                sizes = [line for line in head.split("\r\n") if line.startswith("content-length:")]
                length = int(sizes[0].split(":")[1]) if sizes else 0
                self.bodies.append(await reader.readexactly(length))
                status = b"204 No Content" if self.accepting else b"400 Bad Request"
                writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    try:
        yield found
    finally:
        server.close()


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {DEADLINE} s for {what}")
        await asyncio.sleep(0.1)


async def test_a_refused_webhook_is_listed_with_its_attempt_and_redelivered(
    gate: Gate, customer: Customer, page: Page
) -> None:
    async with receiver() as hook:
        url = f"http://127.0.0.1:{hook.port}/hook"
        endpoint = await gate.store.add_webhook_endpoint(
            customer.account_id, url, ["message.status"], new_secret().text, time.time()
        )
        async with AsyncClient(customer.url, customer.token, timeout=5) as client:
            await asyncio.wait_for(client.send([DELIVERED], "Hooked", customer.sender), 10)
        await until(lambda: len(hook.bodies) == 1, "the webhook's first attempt")

        await log_in(page, customer)
        await page.get_by_role("link", name="Webhooks").click()
        await expect(page.locator("#endpoints")).to_contain_text(url)
        failed = page.locator("#failed tbody tr[data-item]")
        for _ in range(80):  # the attempt's outcome is written just after the answer
            if await failed.count():
                break
            await asyncio.sleep(0.25)
            await page.reload()
        await expect(failed).to_have_count(1)
        await expect(failed).to_contain_text("message.status")
        await expect(failed).to_contain_text(f"endpoint {endpoint.id}")
        await expect(failed).to_contain_text("400")
        await screenshot(page, "webhooks")

        await failed.get_by_role("link").first.click()
        attempts = page.locator("#attempts tbody tr")
        await expect(attempts).to_have_count(1)
        await expect(attempts.first).to_contain_text("400")
        hook.accepting = True
        await page.get_by_role("button", name="Redeliver").click()
        await expect(page.get_by_role("status")).to_contain_text("Sent again")
        await until(lambda: len(hook.bodies) == 2, "the redelivery")
        assert hook.bodies[1] == hook.bodies[0]  # the same event, signed again
        await page.goto(f"{customer.url}/dashboard/webhooks")
        await expect(page.locator("#failed tbody tr[data-item]")).to_have_count(0)


async def test_another_accounts_failed_delivery_is_refused(
    gate: Gate, customer: Customer, page: Page
) -> None:
    other = await new_customer(gate)
    async with receiver() as hook:
        await gate.store.add_webhook_endpoint(
            other.account_id,
            f"http://127.0.0.1:{hook.port}/other",
            ["message.status"],
            new_secret().text,
            time.time(),
        )
        async with AsyncClient(other.url, other.token, timeout=5) as client:
            await asyncio.wait_for(client.send([DELIVERED], "Theirs", other.sender), 10)
        await until(lambda: len(hook.bodies) == 1, "the other account's webhook")
        letters: list[object] = []
        deadline = time.monotonic() + DEADLINE
        while not letters and time.monotonic() < deadline:
            letters = await gate.store.dead_letters("webhooks", other.account_id)
            await asyncio.sleep(0.1)
        [theirs] = letters

    await log_in(page, customer)
    item = theirs.item_id  # type: ignore[attr-defined]
    answer = await page.goto(f"{customer.url}/dashboard/deliveries/webhooks/{item}")
    assert answer is not None and answer.status == 404
    await page.goto(f"{customer.url}/dashboard/webhooks")
    await expect(page.locator("#failed tbody tr[data-item]")).to_have_count(0)
    csrf = await page.locator("input[name=csrf]").first.input_value()
    posted = await page.request.post(
        f"{customer.url}/dashboard/deliveries/webhooks/{item}/redeliver", form={"csrf": csrf}
    )
    assert posted.status == 404
    assert len(await gate.store.dead_letters("webhooks", other.account_id)) == 1  # untouched


async def test_inbound_sms_and_opt_outs_are_listed(
    gate: Gate, customer: Customer, page: Page
) -> None:
    number = f"70{customer.account_id:03d}"
    await gate.store.add_number(NumberRoute(number, customer.account_id))
    assert gate.sim.send_mo("380671112233", number, "Is the shop open today?") == 1
    assert gate.sim.send_mo("380674445566", number, "STOP") == 1
    await log_in(page, customer)
    await page.get_by_role("link", name="Inbound").click()
    rows = page.locator("#inbound tbody tr")
    for _ in range(80):  # through the simulator's SMPP session into the store
        if await page.locator("#opt-outs tbody tr", has_text="+380674445566").count():
            break
        await asyncio.sleep(0.25)
        await page.reload()
    await expect(rows.filter(has_text="Is the shop open today?")).to_contain_text("+380671112233")
    await expect(page.locator("#opt-outs")).to_contain_text("answered STOP")
    await screenshot(page, "inbound")


async def test_a_messages_page_shows_its_callbacks_attempts_and_a_redelivery(
    customer: Customer, page: Page
) -> None:
    async with receiver() as hook:
        url = f"http://127.0.0.1:{hook.port}/dlr?token=secret"
        async with AsyncNativeClient(customer.url, customer.token, timeout=5) as api:
            sent = await asyncio.wait_for(
                api.send([DELIVERED], "Called back", customer.sender, callback_url=url), 10
            )
        [message] = sent.ids
        await until(lambda: len(hook.bodies) == 1, "the callback's first attempt")

        await log_in(page, customer)
        await page.goto(f"{customer.url}/dashboard/messages/{message}")
        row = page.locator("#callbacks tbody tr").first
        await expect(row).to_contain_text("given up", timeout=15_000)  # polled, no reload
        await expect(row).to_contain_text("DELIVRD")
        await expect(row).to_contain_text("400")
        await expect(row).not_to_contain_text("secret")  # the URL's query stays hidden
        hook.accepting = True
        await row.get_by_role("link", name="redeliver").click()
        await page.get_by_role("button", name="Redeliver").click()
        await until(lambda: len(hook.bodies) == 2, "the redelivered callback")
        await page.goto(f"{customer.url}/dashboard/messages/{message}")
        rows = page.locator("#callbacks tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0)).to_contain_text("sent again")
        await expect(rows.nth(1)).to_contain_text("delivered", timeout=15_000)
        await expect(rows.nth(1)).to_contain_text("204")
