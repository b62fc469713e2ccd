"""End-to-end tier: every service runs as its own process (`python -m c2p.run`),
as in production, and the test talks HTTP to the gateway only."""
import pytest

from c2p.processes import LocalPlatform


@pytest.fixture
def platform(process_env, tmp_path):
    """The whole platform, one process per service; yields the gateway's base URL."""
    running = LocalPlatform(process_env, str(tmp_path / "logs")).start()
    yield running.base_url
    stuck = running.stop()
    assert not stuck, f"did not stop on SIGTERM within 15 s: {stuck}"
