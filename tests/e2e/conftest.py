"""Hooks of the end-to-end tests: the one test that must wait out a real minute has its node
started and its message sent as soon as the session's tests are known, so that minute passes
while the others run (test_make_run_expiry.py says more)."""

from __future__ import annotations

import pytest

from . import test_make_run_expiry as expiry

_EXPIRY_TEST = "test_make_run_expiry.py::"


def pytest_collection_finish(session: pytest.Session) -> None:
    # Only when it will run, and not when collecting only (`--collect-only`).
    if session.config.option.collectonly:
        return
    if any(_EXPIRY_TEST in item.nodeid for item in session.items):
        expiry.EARLY.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    expiry.EARLY.stop()
