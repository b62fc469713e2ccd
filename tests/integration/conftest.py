"""Integration tier: services run as nameko containers inside the test process,
against the real broker (a vhost per test) and real, freshly migrated databases."""
