"""The dashboard's frame in a real Chromium: log in, the message log with its filters, one
message whose status turns DELIVRD without a reload, logout; another account's message is
refused; forms without their CSRF token are refused."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import Page, expect

from smsgate.client import AsyncClient

from .browsing import Customer, Gate, log_in, new_customer, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="package")

DELIVERED = "380501230000"  # the simulator delivers numbers ending 0000
UNDELIVERED = "380501230001"


async def send(who: Customer, phones: list[str], text: str) -> list[str]:
    async with AsyncClient(who.url, who.token, timeout=5) as client:
        result = await asyncio.wait_for(client.send(phones, text, who.sender), 10)
    return list(result.accepted)


async def test_a_wrong_password_is_refused_and_the_right_one_opens_the_message_log(
    customer: Customer, page: Page
) -> None:
    await page.goto(f"{customer.url}/")
    await expect(page).to_have_url(re.compile(r"/dashboard/login$"))
    await screenshot(page, "login")
    await page.get_by_label("Login").fill(customer.login)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong login or password.")

    await log_in(page, customer)
    await expect(page).to_have_url(re.compile(r"/dashboard/messages$"))
    await expect(page.get_by_text("No messages")).to_be_visible()
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "sg_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert not session["secure"]  # plain HTTP here; over TLS it is Secure

    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/dashboard/login$"))
    await page.goto(f"{customer.url}/dashboard/messages")
    await expect(page).to_have_url(re.compile(r"/dashboard/login$"))


async def test_search_and_open_a_message(customer: Customer, page: Page) -> None:
    await send(customer, [UNDELIVERED], "Your code is 1234")
    [delivered_id] = await send(customer, [DELIVERED], "Hello from the dashboard test")
    await log_in(page, customer)
    rows = page.locator("table.log tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("+" + DELIVERED)  # newest first

    await page.get_by_label("Phone").fill(UNDELIVERED)
    await page.get_by_role("button", name="Search").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Your code is 1234")
    await page.get_by_label("Phone").fill("")
    await page.get_by_label("Door").select_option("http")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_text("No messages match these filters")).to_be_visible()
    await page.get_by_label("Door").select_option("json")
    await page.get_by_role("button", name="Search").click()
    await expect(rows).to_have_count(2)
    # The log is a snapshot (only a message's own page follows its status live): reload, as a
    # user would, until the simulator's receipt has turned the undelivered one final.
    badge = rows.nth(1).locator(".badge")
    for _ in range(60):
        if (await badge.inner_text()).strip() == "UNDELIV":
            break
        await asyncio.sleep(0.5)
        await page.reload()
    await expect(badge).to_have_text("UNDELIV")
    await screenshot(page, "messages")

    await page.get_by_role("link", name=re.compile(r"\d{4}-")).first.click()
    await expect(page).to_have_url(re.compile(rf"/dashboard/messages/{delivered_id}$"))
    await expect(page.locator("#status")).to_have_text("DELIVRD", timeout=15_000)
    await expect(page.get_by_text("Hello from the dashboard test")).to_be_visible()
    await screenshot(page, "message")


async def test_another_accounts_message_is_refused_like_an_unknown_one(
    gate: Gate, customer: Customer, page: Page
) -> None:
    other = await new_customer(gate)
    [theirs] = await send(other, [DELIVERED], "Not for the first account")

    await log_in(page, customer)
    await expect(page.get_by_text("No messages")).to_be_visible()
    answer = await page.goto(f"{customer.url}/dashboard/messages/{theirs}")
    assert answer is not None and answer.status == 404
    await expect(page.get_by_role("heading", name="No such message.")).to_be_visible()
    answer = await page.goto(f"{customer.url}/dashboard/messages/{theirs}/status")
    assert answer is not None and answer.status == 404


async def test_forms_without_their_csrf_token_and_bad_filters_are_refused(
    customer: Customer, page: Page
) -> None:
    async with httpx.AsyncClient(base_url=customer.url, timeout=5) as client:
        forged = await client.post(
            "/dashboard/login", data={"login": customer.login, "password": customer.password}
        )
    assert forged.status_code == 403
    assert "expired" in forged.text
    await log_in(page, customer)
    answer = await page.goto(f"{customer.url}/dashboard/messages?status=LOST&phone=12")
    assert answer is not None and answer.status == 400
    await expect(page.get_by_role("alert")).to_contain_text("Status: one of")
    answer = await page.goto(f"{customer.url}/dashboard/messages?phone=abc")
    assert answer is not None and answer.status == 400
    await expect(page.get_by_role("alert")).to_contain_text("Phone: digits only")
