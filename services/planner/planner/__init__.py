"""The planner service: improvement plans of SMART actions built from a visit's gaps."""
