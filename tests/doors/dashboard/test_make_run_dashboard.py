"""`make run` as a newcomer meets the dashboard: `smsgate serve --demo` prints the dashboard's
URL and the demo login, and that URL with that login opens the message log in Chromium."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from stopping import stop_process

from .browsing import free_port

pytestmark = pytest.mark.asyncio(loop_scope="package")

SMSGATE = str(Path(sys.executable).parent / "smsgate")
PRINTED = re.compile(r"Dashboard: (\S+)  \(log in as (\S+) / (\S+)\)")


@pytest.fixture
def demo_log(tmp_path: Path) -> Iterator[Path]:
    """`smsgate serve --demo` in its own directory and ports; its output in the file yielded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSGATE_")}
    env.update(
        SMSGATE_HTTP__HOST="127.0.0.1",
        SMSGATE_HTTP__PORT=str(free_port()),
        SMSGATE_SMPP__PORT=str(free_port()),
        SMSGATE_SIMULATOR__PORT=str(free_port()),
    )
    output = tmp_path / "node.log"
    with output.open("ab") as log:
        proc = subprocess.Popen(
            [SMSGATE, "serve", "--demo"],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        yield output
    finally:
        stop_process(proc)


async def test_serve_demo_prints_the_dashboard_url_and_a_login_that_works(
    demo_log: Path, page: Page
) -> None:
    deadline = time.monotonic() + 90  # a loaded machine starts a node slowly
    while (found := PRINTED.search(demo_log.read_text())) is None:
        assert time.monotonic() < deadline, demo_log.read_text()[-3000:]
        await asyncio.sleep(0.2)
    url, login, password = found.groups()
    assert url.endswith("/dashboard/")
    await page.goto(url)
    await page.get_by_label("Login").fill(login)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    await expect(page.locator(".who")).to_have_text(login)
