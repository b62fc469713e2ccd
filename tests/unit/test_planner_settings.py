"""The planner's settings (in c2p.config) and request schemas: bad values are named,
not guessed."""
from datetime import date

import pytest
from marshmallow import ValidationError

from c2p.config import ConfigError, load_settings
from planner import schemas


def test_defaults_and_overrides():
    defaults = load_settings({})
    assert (defaults.due_soon_days, defaults.due_alert_interval_s) == (3, 60)
    got = load_settings({"C2P_DUE_SOON_DAYS": "5", "C2P_DUE_ALERT_INTERVAL_S": "0.5"})
    assert (got.due_soon_days, got.due_alert_interval_s) == (5, 0.5)
    old = load_settings({"PLANNER_DUE_SOON_DAYS": "5", "PLANNER_ALERT_INTERVAL_S": "0.5"})
    assert (old.due_soon_days, old.due_alert_interval_s) == (5, 0.5)  # the old names still work


@pytest.mark.parametrize("env,name", [
    ({"PLANNER_DUE_SOON_DAYS": "three"}, "PLANNER_DUE_SOON_DAYS"),
    ({"PLANNER_DUE_SOON_DAYS": "-1"}, "PLANNER_DUE_SOON_DAYS"),
    ({"PLANNER_ALERT_INTERVAL_S": "0"}, "PLANNER_ALERT_INTERVAL_S"),
    ({"C2P_DUE_ALERT_INTERVAL_S": "0"}, "C2P_DUE_ALERT_INTERVAL_S"),
])
def test_bad_settings_name_the_variable(env, name):
    with pytest.raises(ConfigError, match=name):
        load_settings(env)


def errors(schema, payload):
    with pytest.raises(ValidationError) as caught:
        schema.load(payload)
    return caught.value.messages


def test_an_empty_change_or_an_unknown_field_is_refused():
    assert "_" in errors(schemas.ActionChange(), {})
    assert "colour" in errors(schemas.ActionChange(), {"colour": "red"})
    assert "due_date" in errors(schemas.ActionChange(), {"due_date": "soon"})


def test_a_new_action_needs_its_client_id_a_text_and_a_due_date():
    assert {"id", "due_date"} <= set(errors(schemas.NewAction(), {}))
    assert "text_fr" in errors(schemas.NewAction(), {
        "id": "6f1e0d1c-39a5-4ac4-9f5e-2a5e4b3b2c11", "due_date": "2026-04-01"})
    loaded = schemas.NewAction().load({"id": "6f1e0d1c-39a5-4ac4-9f5e-2a5e4b3b2c11",
                                       "text_en": "Post the chart", "due_date": "2026-04-01"})
    assert loaded["due_date"] == date(2026, 4, 1) and loaded["owner_id"] is None


def test_progress_query_takes_days_or_datetimes_in_order():
    got = schemas.ProgressQuery().load({"by": "district", "since": "2026-01-01T08:00:00+00:00",
                                        "until": "2026-02-01"})
    assert (got["since"], got["until"]) == (date(2026, 1, 1), date(2026, 2, 1))
    assert "since" in errors(schemas.ProgressQuery(), {"by": "plan", "since": "2026-03-01",
                                                       "until": "2026-02-01"})
    assert "by" in errors(schemas.ProgressQuery(), {"by": "region"})
