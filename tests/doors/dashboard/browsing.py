"""A real node (the simulator as its operator) and a real Chromium for the dashboard's tests,
and the steps the tests share (log in, take a screenshot).

Chromium is Debian's (make browser-deps), driven by Playwright's Python library; a missing
browser fails these tests loudly, it never skips them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from smsgate.gateway.credentials import hash_password, hash_token, new_token
from smsgate.store.records import Tariff

CHROMIUM = os.environ.get("SMSGATE_CHROMIUM", "/usr/bin/chromium")
# `make screenshots` refreshes the README's pictures; other runs keep theirs out of the tree,
# so running the tests never leaves a checkout dirty.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
STEP_TIMEOUT_MS = 10_000  # any one browser step; a loaded machine gets this much patience


@dataclass(frozen=True)
class Gate:
    """A running node, shared by the package's tests (one node and one browser for them all keeps
    the suite quick); each test logs in as a customer of its own (`customer`)."""

    url: str
    store: Any  # the node's store: tests set up accounts through it, never the pages
    sim: Any  # the operator (smsgate.simulator): tests send inbound SMS through it
    node_id: int


@dataclass(frozen=True)
class Customer:
    url: str
    login: str
    password: str
    token: str
    sender: str
    account_id: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def gate(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gate]:
    """A node with two connectors: the simulator, bound and routed to, and one whose operator
    is not there (a closed port), so the operator's page has a reason to show."""
    from smsgate.config import load_settings
    from smsgate.node import Node
    from smsgate.simulator.config import SimulatorConfig
    from smsgate.simulator.running import running_simulator

    folder = tmp_path_factory.mktemp("dashboard")
    # Slow enough that a page shows ENROUTE before the receipt turns it DELIVRD.
    async with running_simulator(SimulatorConfig(port=0, receipt_delay=1.5)) as sim:
        settings = load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{folder}/dash.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            connectors=[
                {
                    "name": "simulator",
                    "host": "127.0.0.1",
                    "port": sim.port,
                    "system_id": "smsgate",
                    "password": "sim",
                },
                {
                    "name": "closed",
                    "host": "127.0.0.1",
                    "port": free_port(),
                    "system_id": "smsgate",
                    "password": "sim",
                },
            ],
            routes=[{"prefix": "", "connectors": ["simulator"]}],
            callbacks={"allow_private": True},
            dispatch={"retry_backoff": 0.05, "retry_backoff_max": 0.2},
            inbound={"reassembly_timeout": 0.5},
        )
        node = Node(settings)
        await asyncio.wait_for(node.start(), 30)
        try:
            url = f"http://127.0.0.1:{node.addresses.http_port}"
            yield Gate(url, node.store, sim.handler, node.node_id)
        finally:
            await asyncio.wait_for(node.stop(), 30)


_logins = itertools.count(1)


async def new_customer(gate: Gate, *, admin: bool = False) -> Customer:
    """A fresh account with a password, a token, a sender name, 1000.0000 UAH and the demo
    tariff (0.5000 a part)."""
    login = f"customer{next(_logins)}"
    password, token, sender = f"{login}-pass", new_token(), "Shop"
    account = await gate.store.create_account(login, rate_limit=0)
    await gate.store.set_password_hash(account.id, hash_password(password))
    await gate.store.set_token_hash(account.id, hash_token(token))
    await gate.store.add_originator(account.id, sender)
    await gate.store.top_up(account.id, 1000 * 10_000)
    await gate.store.set_tariff(Tariff(account_id=account.id, prefix="", price=5_000))
    if admin:
        await gate.store.set_admin(account.id, True)
    return Customer(gate.url, login, password, token, sender, account.id)


@pytest_asyncio.fixture(loop_scope="package")
async def customer(gate: Gate) -> Customer:
    return await new_customer(gate)


@pytest_asyncio.fixture(scope="package", loop_scope="package")
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


@pytest_asyncio.fixture(loop_scope="package")
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context per test: no cookie of another test's login."""
    context = await browser.new_context(viewport={"width": 1100, "height": 760})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    opened = await context.new_page()
    try:
        yield opened
    finally:
        await context.close()


async def log_in(page: Page, who: Customer) -> None:
    await page.goto(f"{who.url}/")
    await page.get_by_label("Login").fill(who.login)
    await page.get_by_label("Password").fill(who.password)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("heading", name="Messages").wait_for()


async def screenshot(page: Page, name: str) -> None:
    folder = DOCS_SCREENSHOTS if os.environ.get("SMSGATE_SCREENSHOTS") else _scratch
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


_scratch = Path(tempfile.gettempdir()) / f"smsgate-screenshots-{os.getpid()}"
