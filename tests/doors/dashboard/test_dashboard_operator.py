"""The operator's pages in a real Chromium: only an account marked admin opens them; every
account with its balance, rate limit and usage, a top-up, disabling and enabling; one account's
sender names and tariffs; the live view (connectors bound or not and why, nodes with their
leases, the queue) refreshing itself; inbound SMS no account took."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Page, expect

from smsgate.client import AsyncClient, AuthenticationError

from .browsing import Customer, Gate, log_in, new_customer, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="package")

DELIVERED = "380501230000"


async def test_an_operator_tops_up_disables_and_enables_an_account(gate: Gate, page: Page) -> None:
    shop = await gate.store.create_account("shop", rate_limit=5)
    await gate.store.top_up(shop.id, 20_000)
    customer = await new_customer(gate)
    async with AsyncClient(customer.url, customer.token, timeout=5) as client:
        await asyncio.wait_for(client.send([DELIVERED], "Counted in usage", customer.sender), 10)
    ops = await new_customer(gate, admin=True)

    await log_in(page, ops)
    await page.get_by_role("link", name="Operator").click()
    row = page.locator('#accounts tr[data-login="shop"]')
    await expect(row.locator(".balance")).to_have_text("2.0000 UAH")
    await expect(row).to_contain_text("5")  # its rate limit
    theirs = page.locator(f'#accounts tr[data-login="{customer.login}"]')
    await expect(theirs.locator(".usage")).to_have_text("1")  # sent in the last 24 hours
    await expect(page.locator("#queued")).to_have_text(re.compile(r"^\d+$"))

    await row.get_by_label("Amount for shop").fill("abc")
    await row.get_by_role("button", name="Top up").click()
    await expect(page.get_by_role("alert")).to_contain_text("a number like 100")
    row = page.locator('#accounts tr[data-login="shop"]')
    await row.get_by_label("Amount for shop").fill("12.5")
    await row.get_by_role("button", name="Top up").click()
    await expect(row.locator(".balance")).to_have_text("14.5000 UAH")
    assert (await gate.store.balance(shop.id)).balance == 145_000

    await theirs.get_by_role("button", name="Disable").click()
    await expect(theirs.locator(".active")).to_have_text("no")
    async with AsyncClient(customer.url, customer.token, timeout=5, retries=0) as client:
        with pytest.raises(AuthenticationError):  # this node forgot the account at once
            await client.balance()
    await theirs.get_by_role("button", name="Enable").click()
    await expect(theirs.locator(".active")).to_have_text("yes")
    async with AsyncClient(customer.url, customer.token, timeout=5) as client:
        assert (await client.balance()).currency == "UAH"
    # An operator cannot lock itself out from here.
    await expect(
        page.locator(f'#accounts tr[data-login="{ops.login}"]').get_by_role("button")
    ).to_have_count(1)  # the top-up only


async def test_an_operator_edits_sender_names_and_tariffs(gate: Gate, page: Page) -> None:
    customer = await new_customer(gate)
    ops = await new_customer(gate, admin=True)
    await log_in(page, ops)
    await page.goto(f"{ops.url}/dashboard/operator")
    await page.get_by_role("link", name=customer.login, exact=True).click()
    await expect(page.get_by_role("heading", name=f"Account {customer.login}")).to_be_visible()

    await page.get_by_label("New sender name").fill("bad name!")
    await page.get_by_role("button", name="Add sender").click()
    await expect(page.get_by_role("alert")).to_contain_text("bad sender name")
    await page.get_by_label("New sender name").fill("Promo")
    await page.get_by_role("button", name="Add sender").click()
    await expect(page.locator("#senders")).to_contain_text("Promo")
    assert "Promo" in await gate.store.originators(customer.account_id)
    await page.get_by_role("button", name="Remove Promo").click()
    await expect(page.locator("#senders")).not_to_contain_text("Promo")

    await page.get_by_label("Prefix").fill("38067")
    await page.get_by_label("Price per part").fill("-1")
    await page.get_by_role("button", name="Set tariff").click()
    await expect(page.get_by_role("alert")).to_contain_text("not negative")
    await page.get_by_label("Prefix").fill("38067")
    await page.get_by_label("Price per part").fill("0.3")
    await page.get_by_role("button", name="Set tariff").click()
    await expect(page.locator('#tariffs tr[data-prefix="38067"]')).to_contain_text("0.3000 UAH")
    tariffs = await gate.store.tariffs(customer.account_id)
    assert any(t.prefix == "38067" and t.price == 3_000 for t in tariffs)
    await screenshot(page, "operator-account")
    await page.get_by_role("button", name="Remove tariff 38067").click()
    await expect(page.locator('#tariffs tr[data-prefix="38067"]')).to_have_count(0)


async def test_the_live_view_says_why_a_connector_is_not_bound_and_lists_the_nodes(
    gate: Gate, page: Page
) -> None:
    ops = await new_customer(gate, admin=True)
    await log_in(page, ops)
    await page.goto(f"{ops.url}/dashboard/operator")
    await page.evaluate("window.notReloaded = true")
    bound = page.locator('#connectors tr[data-connector="simulator"]')
    closed = page.locator('#connectors tr[data-connector="closed"]')
    await expect(bound).to_contain_text("bound")
    await expect(bound).not_to_contain_text("not bound")
    await expect(closed).to_contain_text("not bound")
    await expect(closed.locator(".why")).to_contain_text("connect refused", timeout=15_000)
    await screenshot(page, "operator")
    await expect(page.locator("#awaiting")).to_have_text(re.compile(r"^\d+$"))
    await expect(bound.locator(".awaiting")).to_have_text(re.compile(r"^\d+$"))
    await expect(page.locator("#routes")).to_contain_text("simulator")
    node = page.locator(f'#nodes tr[data-node="{gate.node_id}"]')
    await expect(node).to_contain_text("this one")
    await expect(node).to_contain_text("closed, simulator")

    # The view follows the node by itself: a message sent now shows up in the counters.
    submitted = bound.locator("td").nth(6)  # Submitted
    before = int(await submitted.inner_text())
    customer = await new_customer(gate)
    async with AsyncClient(customer.url, customer.token, timeout=5) as client:
        await asyncio.wait_for(client.send([DELIVERED], "Live counters", customer.sender), 10)
    await expect(submitted).not_to_have_text(str(before), timeout=15_000)
    assert await page.evaluate("window.notReloaded === true")


async def test_an_operator_sees_the_inbound_sms_no_account_took(gate: Gate, page: Page) -> None:
    ops = await new_customer(gate, admin=True)
    assert gate.sim.send_mo("380509990000", "9999", "To nobody's number") == 1
    await log_in(page, ops)
    await page.goto(f"{ops.url}/dashboard/operator")
    await page.get_by_role("link", name="Unroutable inbound SMS").click()
    row = page.locator("#unroutable tbody tr", has_text="To nobody's number")
    for _ in range(40):  # the SMS reaches the store through the simulator's SMPP session
        if await row.count():
            break
        await asyncio.sleep(0.25)
        await page.reload()
    await expect(row).to_contain_text("+380509990000")
    await expect(row).to_contain_text("9999")


async def test_a_customer_never_sees_the_operator_pages(
    gate: Gate, customer: Customer, page: Page
) -> None:
    await log_in(page, customer)
    await expect(page.get_by_role("link", name="Operator")).to_have_count(0)
    for path in ("", "/live", "/unroutable", f"/accounts/{customer.account_id}"):
        answer = await page.goto(f"{customer.url}/dashboard/operator{path}")
        assert answer is not None and answer.status == 404, path
    await page.goto(f"{customer.url}/dashboard/messages")
    csrf = await page.locator("input[name=csrf]").first.input_value()  # the logout form's
    for action, fields in (
        ("top-up", {"amount": "1000"}),
        ("disable", {}),
        ("senders", {"name": "Mine"}),
        ("tariffs", {"prefix": "380", "price": "0"}),
    ):
        posted = await page.request.post(
            f"{customer.url}/dashboard/operator/accounts/{customer.account_id}/{action}",
            form={"csrf": csrf, **fields},
        )
        assert posted.status == 404, action
    async with AsyncClient(customer.url, customer.token, timeout=5) as client:
        assert (await client.balance()).money == 1000
    assert await gate.store.originators(customer.account_id) == [customer.sender]
