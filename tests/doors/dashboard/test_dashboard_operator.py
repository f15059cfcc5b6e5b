"""The operator's page in a real Chromium: only an account marked admin opens it; it lists
every account with its balance, tops one up, and shows the connectors and the queue."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from .browsing import Customer, Gate, log_in, new_customer, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_an_operator_tops_up_an_account_and_sees_the_connectors(
    gate: Gate, page: Page
) -> None:
    shop = await gate.store.create_account("shop", rate_limit=5)
    await gate.store.top_up(shop.id, 20_000)
    ops = await new_customer(gate, admin=True)

    await log_in(page, ops)
    await page.get_by_role("link", name="Operator").click()
    row = page.locator('#accounts tr[data-login="shop"]')
    await expect(row.locator(".balance")).to_have_text("2.0000 UAH")
    await expect(page.locator("#connectors")).to_contain_text("bound")
    await expect(page.locator("#queued")).to_have_text(re.compile(r"^\d+$"))

    await row.get_by_label("Amount for shop").fill("abc")
    await row.get_by_role("button", name="Top up").click()
    await expect(page.get_by_role("alert")).to_contain_text("a number like 100")
    row = page.locator('#accounts tr[data-login="shop"]')
    await row.get_by_label("Amount for shop").fill("12.5")
    await row.get_by_role("button", name="Top up").click()
    await expect(row.locator(".balance")).to_have_text("14.5000 UAH")
    assert (await gate.store.balance(shop.id)).balance == 145_000
    await screenshot(page, "operator")


async def test_a_customer_never_sees_the_operator_pages(customer: Customer, page: Page) -> None:
    await log_in(page, customer)
    await expect(page.get_by_role("link", name="Operator")).to_have_count(0)
    answer = await page.goto(f"{customer.url}/dashboard/operator")
    assert answer is not None and answer.status == 404
    csrf = await page.locator("input[name=csrf]").first.input_value()  # the logout form's
    posted = await page.request.post(
        f"{customer.url}/dashboard/operator/accounts/{customer.account_id}/top-up",
        form={"csrf": csrf, "amount": "1000"},
    )
    assert posted.status == 404
