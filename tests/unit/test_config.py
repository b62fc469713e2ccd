"""Configuration fails at start-up naming the bad variable."""
import pytest

from c2p.config import ConfigError, load_settings


def test_defaults_are_local():
    settings = load_settings({})
    assert settings.amqp_uri.startswith("amqp://guest:guest@localhost:5672")
    assert settings.database_url("planner").endswith("/c2p_planner")
    assert settings.retry_delays_ms == (1000, 5000, 30000)


@pytest.mark.parametrize("name,value", [
    ("AMQP_URI", "http://nope"),
    ("PLANNER_DATABASE_URL", "mysql://x/y"),
    ("GATEWAY_PORT", "eighty"),
    ("GATEWAY_PORT", "0"),
    ("S3_ENDPOINT", "http://minio:9000"),
    ("S3_SECURE", "perhaps"),
    ("C2P_RETRY_DELAYS_MS", "1000,soon"),
    ("TOKEN_SECRET", "short"),
    ("EVIDENCE_BUCKET", ""),
])
def test_malformed_value_names_the_variable(name, value):
    with pytest.raises(ConfigError) as error:
        load_settings({name: value})
    assert name in str(error.value)


def test_production_refuses_the_development_secret():
    with pytest.raises(ConfigError, match="TOKEN_SECRET"):
        load_settings({"C2P_PRODUCTION": "true"})
