"""The ways in: wire formats translated onto gateway calls, and nothing else."""
