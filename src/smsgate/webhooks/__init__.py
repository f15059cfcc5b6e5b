"""Reporting back over HTTP: Standard Webhooks signing, the delivery policy, URL safety (SSRF),
the HTTP sender and the per-message callback form.

Pure cores (our HTTP/1.1 included) and thin asyncio shells; nothing here reads the store or
the clock on its own.
"""
