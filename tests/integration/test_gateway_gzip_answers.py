"""gzip through the real gateway (in this process): a large JSON answer goes
compressed to a client that takes gzip, the SSE stream never does."""
import pytest
import requests

from gateway.service import GatewayService


@pytest.fixture
def process_env(process_env):
    return {**process_env, "C2P_LIVE_HEARTBEAT_S": "1"}  # the stream notices a closed client


def test_large_json_is_gzipped_and_the_live_stream_is_not(start_service, service_config):
    start_service(GatewayService)
    base = f"http://{service_config['WEB_SERVER_ADDRESS']}"
    document = requests.get(f"{base}/api/v1/openapi.json", timeout=10,
                            headers={"Accept-Encoding": "gzip"})
    assert document.status_code == 200
    assert document.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in document.headers["Vary"]
    assert document.json()["openapi"].startswith("3.1")  # requests decompressed it
    plain = requests.get(f"{base}/api/v1/openapi.json", timeout=10,
                         headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.json() == document.json()

    token = requests.post(f"{base}/api/v1/auth/token", timeout=10, json={
        "username": "coach.niono", "password": "demo-c2p-2025"}).json()["access_token"]
    with requests.get(f"{base}/api/v1/live?access_token={token}", stream=True, timeout=10,
                      headers={"Accept-Encoding": "gzip"}) as stream:
        assert stream.status_code == 200
        assert "Content-Encoding" not in stream.headers
        assert next(stream.iter_content(chunk_size=None)).startswith(b"retry:")
