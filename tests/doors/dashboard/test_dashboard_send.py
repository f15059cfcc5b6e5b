"""Sending from the dashboard in a real Chromium: the live quote (encoding, parts, the
characters forcing UCS-2, price), the send, the status turning DELIVRD on the message's page
without a reload; the account page's balance and a token rotation shown once."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from smsgate.client import AsyncClient, AuthenticationError

from .browsing import Customer, log_in, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="package")

DELIVERED = "380501230000"


async def test_the_quote_follows_the_text_and_the_sent_message_turns_delivrd_live(
    customer: Customer, page: Page
) -> None:
    await log_in(page, customer)
    await page.get_by_role("link", name="Send").click()
    await page.get_by_label("Recipients").fill(DELIVERED)
    await page.get_by_label("Text").fill("Hello")
    await expect(page.locator("#q-encoding")).to_have_text("GSM-7")
    await expect(page.locator("#q-parts")).to_have_text("1")
    await expect(page.locator("#q-total")).to_have_text("0.5000 UAH")

    await page.get_by_label("Text").fill("Привіт " + "x" * 70)  # Cyrillic: UCS-2, 77 units
    await expect(page.locator("#q-encoding")).to_have_text("UCS-2")
    await expect(page.locator("#q-parts")).to_have_text("2")
    await expect(page.locator("#q-forcing")).to_contain_text("П")
    await expect(page.locator("#q-total")).to_have_text("1.0000 UAH")
    await screenshot(page, "send")

    await page.get_by_role("button", name="Send").click()
    await expect(page).to_have_url(re.compile(r"/dashboard/messages/\d+$"))
    status = page.locator("#status")
    await expect(status).to_have_text("ENROUTE")  # the simulator answers after 1.5 s
    await page.evaluate("window.notReloaded = true")
    await expect(status).to_have_text("DELIVRD", timeout=15_000)
    assert await page.evaluate("window.notReloaded === true")
    await expect(page.get_by_text("UCS-2")).to_be_visible()


async def test_a_refused_send_says_why_on_the_form(customer: Customer, page: Page) -> None:
    await log_in(page, customer)
    await page.goto(f"{customer.url}/dashboard/send")
    await page.get_by_label("Recipients").fill("12")
    await page.get_by_label("Text").fill("Hello")
    await expect(page.locator("#quote")).to_contain_text("12: Invalid phone number")
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("alert")).to_contain_text("Nothing sent. 12: Invalid phone")
    await expect(page.get_by_label("Text")).to_have_value("Hello")  # kept for a retry


async def test_rotating_the_token_shows_it_once_and_the_old_one_stops(
    customer: Customer, page: Page
) -> None:
    await log_in(page, customer)
    await page.get_by_role("link", name="Account").click()
    await expect(page.locator("#balance")).to_have_text("1000.0000 UAH")
    await expect(page.locator("#senders")).to_contain_text(customer.sender)
    await page.get_by_role("button", name="Issue a new token").click()
    token = (await page.locator("#new-token").text_content() or "").strip()
    assert len(token) >= 40 and token != customer.token
    await screenshot(page, "account")

    async with AsyncClient(customer.url, token, timeout=5) as client:
        assert (await client.balance()).currency == "UAH"
    async with AsyncClient(customer.url, customer.token, timeout=5, retries=0) as client:
        with pytest.raises(AuthenticationError):  # the old token stopped at once
            await client.balance()
    await page.goto(f"{customer.url}/dashboard/account")  # not a reload: that posts again
    await expect(page.locator("#new-token")).to_have_count(0)  # shown once, kept nowhere
