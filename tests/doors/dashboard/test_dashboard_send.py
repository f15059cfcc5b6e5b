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
    await page.get_by_role("link", name="Send", exact=True).click()
    await page.get_by_label("Recipients").fill(DELIVERED)
    await page.locator("#send-form").get_by_label("Text").fill("Hello")
    await expect(page.locator("#q-encoding")).to_have_text("GSM-7")
    await expect(page.locator("#q-parts")).to_have_text("1")
    await expect(page.locator("#q-total")).to_have_text("0.5000 UAH")

    await (
        page.locator("#send-form").get_by_label("Text").fill("Привіт " + "x" * 70)
    )  # Cyrillic: UCS-2, 77 units
    await expect(page.locator("#q-encoding")).to_have_text("UCS-2")
    await expect(page.locator("#q-parts")).to_have_text("2")
    await expect(page.locator("#q-forcing")).to_contain_text("П")
    await expect(page.locator("#q-total")).to_have_text("1.0000 UAH")
    await screenshot(page, "send")

    await page.locator("#send-form").get_by_role("button", name="Send").click()
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
    await page.locator("#send-form").get_by_label("Text").fill("Hello")
    await expect(page.locator("#quote")).to_contain_text("12: Invalid phone number")
    await page.locator("#send-form").get_by_role("button", name="Send").click()
    await expect(page.get_by_role("alert")).to_contain_text("Nothing sent. 12: Invalid phone")
    await expect(page.locator("#send-form").get_by_label("Text")).to_have_value(
        "Hello"
    )  # kept for a retry


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


async def test_a_csv_file_is_sent_in_batches_with_its_progress(
    customer: Customer, page: Page
) -> None:
    good = [f"3805077{n:05d}" for n in range(230)]
    lines = ["phone,text"]
    lines += [f'{phone},"Hello, {n}"' for n, phone in enumerate(good[:200])]
    lines += good[200:]  # no text of their own: the form's
    lines += ["12", "not-a-number"]
    csv = ("\r\n".join(lines) + "\r\n").encode()

    await log_in(page, customer)
    await page.get_by_role("link", name="Send", exact=True).click()
    bulk = page.locator("#bulk-form")
    await bulk.get_by_label("CSV file").set_input_files(
        files=[{"name": "customers.csv", "mimeType": "text/csv", "buffer": csv}]
    )
    await bulk.get_by_label("Text for lines without one").fill("Our shop opens at 9")
    await page.evaluate(
        """() => {
            window.bulkSeen = [];
            const status = document.getElementById("bulk-status");
            new MutationObserver(() => window.bulkSeen.push(status.textContent))
                .observe(status, {childList: true, characterData: true, subtree: true});
        }"""
    )
    await bulk.get_by_role("button", name="Send the file").click()
    status = page.locator("#bulk-status")
    await expect(status).to_have_text(
        "Done: 230 accepted, 2 refused, of 232 rows in 3 batches.", timeout=30_000
    )
    assert await page.locator("#bulk-progress").evaluate("bar => bar.value === bar.max")
    seen = await page.evaluate("window.bulkSeen")
    assert any(text.startswith("100 of 232 rows sent (batch 1 of 3)") for text in seen), seen
    assert any(text.startswith("200 of 232 rows sent (batch 2 of 3)") for text in seen), seen
    await expect(page.locator("#bulk-refused li")).to_have_count(2)
    await expect(page.locator("#bulk-refused")).to_contain_text("12: Invalid phone number")
    await screenshot(page, "bulk")

    await page.goto(f"{customer.url}/dashboard/messages?phone={good[0]}")
    await expect(page.locator("table.log tbody tr")).to_contain_text("Hello, 0")
    await page.goto(f"{customer.url}/dashboard/messages?phone={good[-1]}")
    await expect(page.locator("table.log tbody tr")).to_contain_text("Our shop opens at 9")
