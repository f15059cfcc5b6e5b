"""An operator SMSC on SMPP for demos, tests and benchmarks."""
