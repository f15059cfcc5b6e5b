"""SMPP v3.4: a sans-IO codec and session, and thin asyncio client and server on top.

Knows nothing about accounts, billing or storage.
"""
