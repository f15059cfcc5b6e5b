"""The dashboard tests' fixtures: a real node and a real Chromium (browsing.py)."""

from .browsing import browser, customer, gate, page

__all__ = ["browser", "customer", "gate", "page"]
