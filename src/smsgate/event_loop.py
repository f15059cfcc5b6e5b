"""The event loop smsgate's processes run on: uvloop where it is installed (a dependency
everywhere but Windows), asyncio's own otherwise. uvloop's transports and loop turns cost
less CPU per PDU than asyncio's selector loop; the SMPP simulator spent ~12 % of its time in
asyncio's own loop and transport code (bench/RESULTS.md, "Session 8")."""

from __future__ import annotations


def install_uvloop() -> None:
    """Make asyncio.run() use uvloop from now on in this process, when it is installed."""
    try:
        import uvloop
    except ImportError:
        return
    uvloop.install()
