"""Reporting back over HTTP: Standard Webhooks signing, the delivery policy, URL safety (SSRF),
the HTTP sender and the per-message callback form.

Pure cores and a thin httpx edge; nothing here reads the store or the clock on its own.
"""
