"""The dashboard's guards in a real Chromium: every form of every page carries the session's
CSRF token and every POST without it is refused before it acts; the login form is throttled
like the HTTP gateway's password check (the lock is kept in the store); a disabled account
loses its session at once."""

from __future__ import annotations

import asyncio
import time

import pytest
from playwright.async_api import Page, expect

from smsgate.client import AsyncClient

from .browsing import Gate, log_in, new_customer

pytestmark = pytest.mark.asyncio(loop_scope="package")

DELIVERED = "380501230000"


async def test_every_form_carries_the_csrf_token_and_every_post_without_it_is_refused(
    gate: Gate, page: Page
) -> None:
    ops = await new_customer(gate, admin=True)
    async with AsyncClient(ops.url, ops.token, timeout=5) as client:
        [message] = (
            await asyncio.wait_for(client.send([DELIVERED], "Hi", ops.sender), 10)
        ).accepted
    await log_in(page, ops)
    token = await page.locator("input[name=csrf]").first.input_value()
    assert len(token) >= 24
    pages = [
        "/messages",
        f"/messages/{message}",
        "/send",
        "/charts",
        "/inbound",
        "/webhooks",
        "/account",
        "/operator",
        f"/operator/accounts/{ops.account_id}",
        "/operator/unroutable",
    ]
    forms = 0
    for path in pages:
        answer = await page.goto(f"{ops.url}/dashboard{path}")
        assert answer is not None and answer.status == 200, path
        found = await page.eval_on_selector_all(
            "form",
            """forms => forms.map(f => [f.method, f.action,
                (f.querySelector('input[name=csrf]') || {}).value || null])""",
        )
        for method, action, csrf in found:
            if method == "post":
                forms += 1
                assert csrf == token, f"{path}: the form to {action} has no CSRF token"
    assert forms >= 15  # logout on every page, send, bulk, token, operator's forms

    posts = [
        "/logout",
        "/send",
        "/send/quote",
        "/send/bulk",
        "/account/token",
        "/deliveries/webhooks/1/redeliver",
        f"/operator/accounts/{ops.account_id}/top-up",
        f"/operator/accounts/{ops.account_id}/disable",
        f"/operator/accounts/{ops.account_id}/senders",
        f"/operator/accounts/{ops.account_id}/senders/remove",
        f"/operator/accounts/{ops.account_id}/tariffs",
        f"/operator/accounts/{ops.account_id}/tariffs/remove",
    ]
    for path in posts:
        for form in ({}, {"csrf": "forged"}):
            posted = await page.request.post(
                f"{ops.url}/dashboard{path}",
                form={**form, "amount": "5", "name": "Forged", "prefix": "1", "price": "0"},
            )
            assert posted.status == 403, (path, form)
    balance = await gate.store.balance(ops.account_id)
    assert balance.balance == 1000 * 10_000 - 5_000  # the one message; no top-up went through
    assert await gate.store.originators(ops.account_id) == [ops.sender]
    await page.goto(f"{ops.url}/dashboard/messages")  # still logged in: logout was refused too
    await expect(page.get_by_role("heading", name="Messages")).to_be_visible()


async def test_password_guessing_on_the_login_form_is_throttled(gate: Gate, page: Page) -> None:
    customer = await new_customer(gate)
    await page.goto(f"{customer.url}/dashboard/login")
    for _ in range(5):
        await page.get_by_label("Login").fill(customer.login)
        await page.get_by_label("Password").fill("guess")
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("alert")).to_have_text("Wrong login or password.")
    # The same guard as the HTTP gateway's, counted in the store (every node sees the lock).
    failures = await gate.store.login_failures(
        [f"login:{customer.login}", f"login-from:{customer.login}@127.0.0.1"]
    )
    assert failures[f"login:{customer.login}"].count == 5
    lock = failures[f"login-from:{customer.login}@127.0.0.1"]
    assert lock.locked_until > lock.last_at
    # Once the lock runs out (a second after the fifth failure), the right password works.
    deadline = time.monotonic() + 30
    while True:
        await page.get_by_label("Login").fill(customer.login)
        await page.get_by_label("Password").fill(customer.password)
        await page.get_by_role("button", name="Log in").click()
        heading = page.get_by_role("heading", name="Messages")
        await expect(heading.or_(page.get_by_role("alert"))).to_be_visible()
        if await heading.count():
            break
        assert time.monotonic() < deadline, "the lock never ran out"
        await asyncio.sleep(0.5)


async def test_a_disabled_account_loses_its_session_at_once(gate: Gate, page: Page) -> None:
    customer = await new_customer(gate)
    await log_in(page, customer)
    await gate.store.set_active(customer.account_id, False)
    await page.goto(f"{customer.url}/dashboard/account")
    await expect(page).to_have_url(f"{customer.url}/dashboard/login")
