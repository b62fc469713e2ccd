"""Unit tier: plain logic only (scoring, plan building, contracts, configuration).
No broker, no database: these run in milliseconds."""
