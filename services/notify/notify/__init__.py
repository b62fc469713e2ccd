"""The notify service: tells coaches and coachees what needs them (inbox first)."""
