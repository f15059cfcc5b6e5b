"""An operator SMSC on SMPP for demos, tests and benchmarks.

Embed it with `running_simulator(SimulatorConfig(...))` (async) or `SimulatorThread(config)`
(sync); run it alone with `smsgate simulator` or `python -m smsgate.simulator`. Outcomes by magic
numbers on the destination are listed in outcomes.py and README.md.
"""

from smsgate.simulator.config import SimulatorConfig
from smsgate.simulator.handler import SimulatorCounters, SimulatorHandler
from smsgate.simulator.outcomes import MAGIC_NUMBERS, Outcome
from smsgate.simulator.running import Simulator, SimulatorThread, running_simulator

__all__ = [
    "MAGIC_NUMBERS",
    "Outcome",
    "Simulator",
    "SimulatorConfig",
    "SimulatorCounters",
    "SimulatorHandler",
    "SimulatorThread",
    "running_simulator",
]
