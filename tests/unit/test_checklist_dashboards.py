"""Periods, roll-ups per district and region, and the ranking of failing items."""
from datetime import datetime, timezone

import pytest

from checklist import dashboards

UTC = timezone.utc


def test_period_from_dates_includes_the_whole_last_day():
    start, end, errors = dashboards.parse_period("2026-01-01", "2026-03-31")
    assert errors == {}
    assert start == datetime(2026, 1, 1, tzinfo=UTC)
    assert end == datetime(2026, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize("since, until, field", [
    ("yesterday", None, "since"), (None, "2026-13-01", "until"),
    ("2026-03-01", "2026-02-01", "until")])
def test_bad_periods_name_the_field(since, until, field):
    assert field in dashboards.parse_period(since, until)[2]


def test_open_period_and_datetimes():
    start, end, errors = dashboards.parse_period("2026-01-01T08:00:00Z", None)
    assert start == datetime(2026, 1, 1, 8, tzinfo=UTC) and end is None and not errors


def facility(fid, district, region, percent, colour, flagged=False, visits=1):
    return {"facility_id": fid, "facility_name": fid, "district_id": district,
            "district_name": district.title(), "region_id": region,
            "region_name": region.title(), "percent": percent, "colour": colour,
            "flagged": flagged, "visits": visits}


FACILITIES = [
    facility("a", "niono", "segou", 90.0, "green", visits=3),
    facility("b", "niono", "segou", 60.0, "amber", flagged=True),
    facility("c", "segou", "segou", 40.0, "red"),
    facility("d", "kayes", "kayes", None, "grey"),
]


def test_rollup_by_district_means_latest_percents_and_counts_colours():
    rows = {row["district_id"]: row for row in dashboards.rollup(FACILITIES, "district")}
    niono = rows["niono"]
    assert niono["mean_percent"] == 75.0 and niono["facilities"] == 2
    assert niono["colours"] == {"green": 1, "amber": 1, "red": 0, "grey": 0}
    assert niono["flagged"] == 1 and niono["visits"] == 4
    assert niono["region_id"] == "segou"
    assert rows["kayes"]["mean_percent"] is None


def test_rollup_by_region_lowest_first():
    rows = dashboards.rollup(FACILITIES, "region")
    assert [row["region_id"] for row in rows] == ["segou", "kayes"]
    assert rows[0]["mean_percent"] == round((90 + 60 + 40) / 3, 1)
    assert rows[0]["colours"]["red"] == 1


def test_rank_gaps_counts_visits_of_templates_having_the_item():
    templates = {
        1: {"sections": [{"code": "cc", "items": [
            {"code": "x", "label_fr": "X v1", "label_en": "X v1"},
            {"code": "y", "label_fr": "Y", "label_en": "Y", "critical": True}]}]},
        2: {"sections": [{"code": "cc", "items": [
            {"code": "x", "label_fr": "X v2", "label_en": "X v2"}]}]},
    }
    counts = [{"item_code": "x", "failures": 5, "partial": 1},
              {"item_code": "y", "failures": 5, "partial": 0}]
    rows = dashboards.rank_gaps(counts, {1: 10, 2: 30}, templates)
    assert [row["item_code"] for row in rows] == ["y", "x"]  # ties: critical first
    y, x = rows
    assert (x["visits"], x["failure_rate"], x["label_fr"]) == (40, 12.5, "X v2")
    assert (y["visits"], y["failure_rate"]) == (10, 50.0)
