"""The dashboard's looks in a real Chromium: the theme button switches light and dark and the
choice stays across pages; on a phone's screen no page is wider than the screen (wide tables
scroll inside their own box)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from .browsing import STEP_TIMEOUT_MS, Customer, Gate, log_in, new_customer

pytestmark = pytest.mark.asyncio(loop_scope="package")

BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"


async def test_the_theme_button_switches_dark_and_light_and_is_remembered(
    customer: Customer, page: Page
) -> None:
    await page.emulate_media(color_scheme="light")
    await log_in(page, customer)
    light = await page.evaluate(BACKGROUND)
    await page.get_by_role("button", name="Switch light or dark theme").click()
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    dark = await page.evaluate(BACKGROUND)
    assert dark != light
    await page.get_by_role("link", name="Account").click()  # another page, the same choice
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert await page.evaluate(BACKGROUND) == dark
    await page.get_by_role("button", name="Switch light or dark theme").click()
    await expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert await page.evaluate(BACKGROUND) == light


async def test_no_page_is_wider_than_a_phone(gate: Gate, browser: Browser) -> None:
    ops = await new_customer(gate, admin=True)
    context = await browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        phone = await context.new_page()
        await log_in(phone, ops)
        for path in ("messages", "send", "charts", "inbound", "webhooks", "account", "operator"):
            await phone.goto(f"{ops.url}/dashboard/{path}")
            width = await phone.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 375, f"/dashboard/{path} is {width} px wide on a 375 px screen"
    finally:
        await context.close()
