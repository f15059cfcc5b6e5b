"""A real node (the simulator as its operator) and a real Chromium for the dashboard's tests,
and the steps the tests share (log in, take a screenshot).

Chromium is Debian's (make browser-deps), driven by Playwright's Python library; a missing
browser fails these tests loudly, it never skips them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = os.environ.get("SMSGATE_CHROMIUM", "/usr/bin/chromium")
# `make screenshots` refreshes the README's pictures; other runs keep theirs out of the tree,
# so running the tests never leaves a checkout dirty.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
STEP_TIMEOUT_MS = 10_000  # any one browser step; a loaded machine gets this much patience


@dataclass(frozen=True)
class Gate:
    url: str
    login: str
    password: str
    token: str
    sender: str
    store: Any  # the node's store: tests set up other accounts through it, never the pages


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def gate(tmp_path: Path) -> AsyncIterator[Gate]:
    from smsgate.config import demo_settings, load_settings
    from smsgate.gateway.demo_account import ensure_demo_account
    from smsgate.node import Node

    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/dash.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            # Slow enough that a page shows ENROUTE before the receipt turns it DELIVRD.
            simulator={"port": free_port(), "receipt_delay": 1.5},
            dispatch={"retry_backoff": 0.05, "retry_backoff_max": 0.2},
        )
    )
    node = Node(settings)
    await asyncio.wait_for(node.start(), 20)
    try:
        creds = await ensure_demo_account(node.store, tmp_path / "demo.json")
        yield Gate(
            f"http://127.0.0.1:{node.addresses.http_port}",
            creds.login,
            creds.password,
            creds.token,
            creds.sender,
            node.store,
        )
    finally:
        await asyncio.wait_for(node.stop(), 20)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run `make browser-deps` (Debian's chromium package)",
            pytrace=False,
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # As root (CI containers) Chromium refuses its sandbox; the pages are our own.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            timeout=30_000,
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1100, "height": 760})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    opened = await context.new_page()
    try:
        yield opened
    finally:
        await context.close()


async def log_in(
    page: Page, gate: Gate, login: str | None = None, password: str | None = None
) -> None:
    await page.goto(f"{gate.url}/")
    await page.get_by_label("Login").fill(login or gate.login)
    await page.get_by_label("Password").fill(password or gate.password)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("heading", name="Messages").wait_for()


async def screenshot(page: Page, name: str) -> None:
    folder = DOCS_SCREENSHOTS if os.environ.get("SMSGATE_SCREENSHOTS") else _scratch
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


_scratch = Path(tempfile.gettempdir()) / f"smsgate-screenshots-{os.getpid()}"
