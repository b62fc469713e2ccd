"""The desk view (issue 14) in a browser against the whole platform, every service its
own process: the same harness as the field app's (tests/e2e/test_web_app.py), on a
desk-sized screen, in French. Screenshots of every view go to .c2p/screenshots/web/
(desk-*.png); axe-core must find no serious or critical violation.

- review queue: a coachee sends a photo, it appears in the coach's open queue without
  a reload, the coach rejects it from the keyboard with a comment, the coachee's phone
  shows the comment;
- views: the map paints seeded visits in their template colours (read from the map's
  canvas), the table agrees, the progress figures change live, the CSV exports match
  the API row for row, the PDF report downloads, roll-ups and English work.
"""
from test_web_app import axe_counts, built_app, photo_with_exif, pytestmark, run_scenario  # noqa: F401


def test_evidence_reaches_the_coachs_queue_live_and_the_rejection_comment_reaches_the_coachee(
        platform, built_app, tmp_path):
    output = run_scenario("desk-review.mjs", platform,
                          C2P_PHOTO=str(photo_with_exif(tmp_path / "photo.jpg")))
    assert axe_counts(output) and not any(axe_counts(output).values()), output


def test_map_colours_exports_and_every_desk_view(platform, built_app):
    output = run_scenario("desk-views.mjs", platform)
    assert "MAP " in output and "EXPORT " in output, output
    assert axe_counts(output) and not any(axe_counts(output).values()), output
