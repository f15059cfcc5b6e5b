"""Fixtures of the interop tests: node `smpp` 0.5.1 installed and ready to run."""

from __future__ import annotations

from pathlib import Path

import pytest
from node_peer import NODE_DIR, ensure_node_smpp


@pytest.fixture(scope="session")
def node_smpp() -> Path:
    """The directory holding the node scripts, with smpp installed beside them."""
    ensure_node_smpp()
    return NODE_DIR
