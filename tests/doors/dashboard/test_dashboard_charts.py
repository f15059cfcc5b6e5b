"""The charts page in a real Chromium: chart.js, served by the gateway itself, draws the panels
htmx fetches (messages sent, delivered and failed per minute, hour and day, the last 30 days by
status and by destination country, the balance from the ledger), with no script blocked by the
page's CSP."""

from __future__ import annotations

import asyncio
import time

import pytest
from playwright.async_api import ConsoleMessage, Page, expect

from smsgate.client import AsyncClient
from smsgate.domain.status import Status

from .browsing import Customer, Gate, log_in, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="package")

DELIVERED = "380501230000"  # the simulator delivers numbers ending 0000
UNDELIVERED = "380501230001"
FINAL = {Status.DELIVRD, Status.UNDELIV}
DRAWN = (
    "() => window.Chart && ['traffic', 'statuses', 'countries', 'balance-chart']"
    ".every(id => Chart.getChart(document.getElementById(id)))"
)


def totals(series: str) -> str:
    return (
        f"() => Chart.getChart(document.getElementById('traffic')).data.datasets"
        f".find(d => d.label === '{series}').data.reduce((a, b) => a + b, 0)"
    )


async def test_the_charts_draw_traffic_statuses_countries_and_the_balance(
    gate: Gate, customer: Customer, page: Page
) -> None:
    problems: list[str] = []

    def noted(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"{message.text} {message.location.get('url', '')}")

    page.on("console", noted)
    async with AsyncClient(customer.url, customer.token, timeout=5) as client:
        sending = client.send([DELIVERED, UNDELIVERED], "Charted", customer.sender)
        result = await asyncio.wait_for(sending, 10)
    # Both receipts in first: the month's breakdowns are counted once a minute at most.
    ids = [int(i) for i in result.accepted]
    deadline = time.monotonic() + 30
    while set((await gate.store.statuses(customer.account_id, ids)).values()) != FINAL:
        assert time.monotonic() < deadline, "the simulator's receipts never came"
        await asyncio.sleep(0.2)
    await log_in(page, customer)
    await page.get_by_role("link", name="Charts").click()
    await page.get_by_role("link", name="per minute").click()
    await page.wait_for_function(DRAWN)
    assert await page.evaluate(totals("sent")) == 2
    assert await page.evaluate(totals("delivered")) == 1
    assert await page.evaluate(totals("failed")) == 1

    await expect(page.locator("#status-table")).to_contain_text("DELIVRD")
    await expect(page.locator("#status-table")).to_contain_text("UNDELIV")
    await expect(page.locator("#country-table")).to_contain_text("UA")
    balance = await page.evaluate(
        "() => Chart.getChart(document.getElementById('balance-chart')).data.datasets[0].data"
    )
    assert balance[-1] == 999.0  # 1000 topped up, two messages at 0.5
    await screenshot(page, "charts")

    for span in ("per hour", "per day"):
        await page.get_by_role("link", name=span).click()
        await page.wait_for_function(DRAWN)
        assert await page.evaluate(totals("sent")) == 2
    assert problems == []  # nothing refused by the Content-Security-Policy, no script error
