"""The web app in a browser against the whole platform (every service its own
process): Debian's Chromium driven by playwright-core (web/tests/browser/*.mjs),
on a phone-sized screen, offline and back.

Each scenario is a Node script that prints its steps, the axe-core findings
(serious and critical violations per screen) and saves screenshots of the main
screens to .c2p/screenshots/web/. The web app must be built (./c2pctl test does it;
otherwise it is built here)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import ROOT

WEB = Path(ROOT) / "web"
SHOTS = Path(ROOT) / ".c2p" / "screenshots" / "web"
CHROMIUM = os.environ.get("C2P_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and shutil.which("node")
         and (WEB / "node_modules" / "playwright-core").exists()),
    reason="needs Chromium at /usr/bin/chromium (apt-get install chromium), Node.js and "
           "`npm ci` in web/ (.ci/run does all three)")


@pytest.fixture(scope="module")
def built_app():
    """web/dist, built if missing or older than the sources."""
    index = WEB / "dist" / "index.html"
    sources = [p for folder in ("src", "public") for p in (WEB / folder).rglob("*") if p.is_file()]
    sources += [WEB / "index.html", WEB / "vite.config.ts", WEB / "package-lock.json"]
    if not index.exists() or max(p.stat().st_mtime for p in sources) > index.stat().st_mtime:
        subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, capture_output=True)
    return index.parent


def run_scenario(script, base_url, **env):
    SHOTS.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["node", str(WEB / "tests" / "browser" / script)], cwd=WEB, capture_output=True,
        text=True, timeout=600,
        env={**os.environ, "C2P_BASE_URL": base_url, "C2P_SHOTS": str(SHOTS),
             "C2P_CHROMIUM": CHROMIUM, **env})
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0 and "\nOK" in output, output
    return output


def axe_counts(output):
    import json
    line = next(line for line in output.splitlines() if line.startswith("AXE "))
    return json.loads(line[4:])


def test_a_coach_fills_a_visit_offline_and_its_plan_appears_when_the_network_returns(
        platform, built_app):
    output = run_scenario("visit-offline.mjs", platform)
    assert axe_counts(output) and not any(axe_counts(output).values()), output


def photo_with_exif(path):
    """A 3000 x 2000 JPEG with a capture time and a GPS position (near the CSCom)."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (3000, 2000), (200, 220, 240))
    draw = ImageDraw.Draw(img)
    for x in range(0, 3000, 150):
        draw.rectangle([x, 0, x + 70, 2000], fill=(30 + x % 200, 120, 90))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "itel", "A70"                       # Make, Model
    exif.get_ifd(0x8769)[0x9003] = "2026:11:29 10:15:00"             # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (14.0, 15.0, 11.0)
    gps[3], gps[4] = "W", (5.0, 59.0, 35.0)
    img.save(path, "JPEG", quality=90, exif=exif)
    return path


def test_a_coachee_s_photo_added_offline_uploads_and_the_coach_s_review_reaches_the_phone(
        platform, built_app, tmp_path):
    photo = photo_with_exif(tmp_path / "fiche-temperature.jpg")
    output = run_scenario("evidence-offline.mjs", platform, C2P_PHOTO=str(photo))
    assert axe_counts(output) and not any(axe_counts(output).values()), output
    # Shrunk on the phone, capture time and place kept (the evidence service read them).
    assert '"width":1600' in output and '"captured_at":"2026-11-29T10:15:00' in output, output
