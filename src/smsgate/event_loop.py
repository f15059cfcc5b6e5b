"""The event loop smsgate's processes run on: uvloop where it is installed (a dependency
everywhere but Windows), asyncio's own otherwise. uvloop's transports and loop turns cost
less CPU per PDU than asyncio's selector loop: on asyncio's, the SMPP simulator spends ~12 % of
its time in the loop's and transports' own code (bench/smpp_door.py)."""

from __future__ import annotations


def install_uvloop() -> None:
    """Make asyncio.run() use uvloop from now on in this process, when it is installed."""
    try:
        import uvloop
    except ImportError:
        return
    uvloop.install()
