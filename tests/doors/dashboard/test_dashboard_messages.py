"""The dashboard's frame in a real Chromium: log in, the message log turning statuses final by
itself, every filter and the pages, one message with its timeline and parts, logout; another
account's message is refused; forms without their CSRF token are refused."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Page, expect

from smsgate.client import AsyncClient
from smsgate.doors.dashboard.message_pages import PAGE_SIZE

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


async def test_the_log_turns_statuses_final_live_and_every_filter_applies(
    customer: Customer, page: Page
) -> None:
    await send(customer, [UNDELIVERED], "Your code is 1234")
    [delivered_id] = await send(customer, [DELIVERED], "Hello from the dashboard test")
    await log_in(page, customer)
    rows = page.locator("table.log tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("+" + DELIVERED)  # newest first
    # The log follows its rows by itself (htmx): no reload turns them final.
    await page.evaluate("window.notReloaded = true")
    await expect(rows.nth(1).locator(".badge")).to_have_text("UNDELIV", timeout=20_000)
    await expect(rows.first.locator(".badge")).to_have_text("DELIVRD", timeout=20_000)
    assert await page.evaluate("window.notReloaded === true")
    await screenshot(page, "messages")

    async def search(expected: int) -> None:
        await page.get_by_role("button", name="Search").click()
        if expected:
            await expect(rows).to_have_count(expected)
        else:
            await expect(page.get_by_text("No messages match these filters")).to_be_visible()

    await page.get_by_label("Phone").fill(UNDELIVERED)
    await search(1)
    await expect(rows.first).to_contain_text("Your code is 1234")
    await page.get_by_label("Phone").fill("")
    await page.get_by_label("Door").select_option("http")
    await search(0)
    await page.get_by_label("Door").select_option("json")
    await search(2)
    await page.get_by_label("Status").select_option("UNDELIV")
    await search(1)
    await expect(rows.first).to_contain_text("+" + UNDELIVERED)
    await page.get_by_label("Status").select_option("")
    await page.get_by_label("Sender").fill("Other")
    await search(0)
    await page.get_by_label("Sender").fill(customer.sender)
    await search(2)
    now = datetime.now(UTC)
    await page.get_by_label("From (UTC)").fill(_local(now + timedelta(hours=1)))
    await search(0)
    await page.get_by_label("From (UTC)").fill(_local(now - timedelta(hours=1)))
    await page.get_by_label("To (UTC)").fill(_local(now + timedelta(hours=1)))
    await search(2)

    await page.get_by_role("link", name=re.compile(r"\d{4}-")).first.click()
    await expect(page).to_have_url(re.compile(rf"/dashboard/messages/{delivered_id}$"))
    await expect(page.locator("#status")).to_have_text("DELIVRD")
    await expect(page.get_by_text("Hello from the dashboard test")).to_be_visible()
    timeline = page.locator("#timeline li")
    await expect(timeline).to_have_count(3)
    await expect(timeline.nth(0)).to_contain_text("accepted")
    await expect(timeline.nth(1)).to_contain_text("submitted")
    await expect(timeline.nth(1)).to_contain_text("simulator")
    await expect(timeline.nth(2)).to_contain_text("DELIVRD")
    await expect(page.locator("#parts tbody tr")).to_have_count(1)
    await expect(page.locator("#parts tbody tr").first).to_contain_text("DELIVRD")
    await screenshot(page, "message")


async def test_the_log_pages_older_and_back_to_the_newest(customer: Customer, page: Page) -> None:
    phones = [f"3805012399{n:02d}" for n in range(PAGE_SIZE + 2)]
    await send(customer, phones, "One of many")
    await log_in(page, customer)
    rows = page.locator("table.log tbody tr")
    await expect(rows).to_have_count(PAGE_SIZE)
    await expect(rows.first).to_contain_text("+" + phones[-1])
    await page.get_by_role("link", name="Older").click()
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("+" + phones[1])
    await expect(rows.last).to_contain_text("+" + phones[0])
    await expect(page.get_by_role("link", name="Older")).to_have_count(0)
    await page.get_by_role("link", name="Newest").click()
    await expect(rows).to_have_count(PAGE_SIZE)


def _local(at: datetime) -> str:
    """A time as a datetime-local field takes it (the log's filters are UTC)."""
    return at.strftime("%Y-%m-%dT%H:%M")


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
