"""Fixtures for the SDK and CLI tests: a fake JSON API and a sleep function that only records."""

from __future__ import annotations

import pytest

from .fake_api import FakeApi, Sleeps


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
