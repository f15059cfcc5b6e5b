"""The `admin` fixture: the admin CLI on a fresh SQLite database per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from .admin_cli import Admin


@pytest.fixture
def admin(tmp_path: Path) -> Admin:
    return Admin(f"sqlite+aiosqlite:///{tmp_path}/admin.db", CliRunner())
