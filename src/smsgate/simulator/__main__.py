"""`python -m smsgate.simulator`: the same command as `smsgate simulator`."""

from smsgate.simulator.cli import app

app()
