"""Fault tier: the whole platform as processes, with faults injected while visits
flow. The CI versions are small; `python tests/faults/scenarios.py` runs larger ones."""
