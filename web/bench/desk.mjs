// The desk view's budgets in a throttled browser (called by bench/desk_view.py,
// which seeds 2,000 facilities x 12 monthly visits and starts the platform).
//
//   node bench/desk.mjs --base http://127.0.0.1:PORT [--runs 5] [--rate 4]
//
// Debian's Chromium through playwright-core, the CPU slowed `rate` times by the
// DevTools protocol (Emulation.setCPUThrottlingRate). Prints one JSON line:
// - gaps_to_map_ms / gaps_to_table_ms: from the end of the gaps answer's
//   download (Resource Timing responseEnd) to the frame that shows every facility
//   on the map, or the table (the app's `desk:gaps-drawn` mark);
// - pan: frame intervals while the map is dragged with every facility drawn;
// - zoom_settle_ms: from a click on "+"/"−" to Leaflet's moveend, animation included.
import { chromium } from "playwright-core";

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  (arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []));
const BASE = args.base;
const RUNS = Number(args.runs ?? 5);
const RATE = Number(args.rate ?? 4);
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const r = (v) => Math.round(v * 10) / 10;
  return { n: sorted.length, p50: r(at(50)), p95: r(at(95)), max: r(sorted[sorted.length - 1]) };
}

async function signIn(page) {
  await page.goto(`${BASE}/sign-in`);
  await page.getByLabel(/Identifiant|Username/).fill("manager.national");
  await page.getByLabel(/Mot de passe|Password/).fill("demo-c2p-2025");
  await page.getByRole("button", { name: /Se connecter|Sign in/ }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
}

async function drawnAfterArrival(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName("desk:gaps-drawn").length > 0,
    null, { timeout: 120_000 });
  return page.evaluate(() => {
    const answer = performance.getEntriesByType("resource")
      .filter((e) => e.name.includes("/api/v1/dashboards/map")).pop();
    const parsed = performance.getEntriesByName("desk:gaps-data")[0];
    const drawn = performance.getEntriesByName("desk:gaps-drawn")[0];
    const m0 = performance.getEntriesByName("desk:markers-start")[0];
    const m1 = performance.getEntriesByName("desk:markers-end")[0];
    const element = document.querySelector(".desk-map");
    return { arrival_to_drawn: drawn.startTime - answer.responseEnd,
      parse: parsed.startTime - answer.responseEnd, bytes: answer.encodedBodySize,
      markers: m1 && m0 ? m1.startTime - m0.startTime : null,
      facilities: Number(element?.dataset.facilitiesDrawn ?? 0),
      rows: document.querySelectorAll(".desk-table tbody tr").length };
  });
}

async function main() {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "fr-FR" });
  const page = await context.newPage();
  await signIn(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: RATE });

  const map = [], table = [], parse = [], markers = [];
  let facilities = 0, bytes = 0;
  for (let run = 0; run < RUNS; run += 1) {
    const m = await drawnAfterArrival(page, `${BASE}/desk`);
    map.push(m.arrival_to_drawn); facilities = m.facilities; bytes = m.bytes;
    parse.push(m.parse); markers.push(m.markers);
    const t = await drawnAfterArrival(page, `${BASE}/desk?view=table`);
    table.push(t.arrival_to_drawn);
  }

  // Pan and zoom with every facility drawn.
  await drawnAfterArrival(page, `${BASE}/desk`);
  const box = await page.locator(".desk-map").boundingBox();
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const tick = (now) => { window.__frames.push(now - last); last = now; window.__raf = requestAnimationFrame(tick); };
    window.__raf = requestAnimationFrame(tick);
  });
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  for (let i = 0; i < 8; i += 1) {
    const dx = (i % 2 ? -1 : 1) * 220, dy = (i % 4 < 2 ? 1 : -1) * 120;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + dx, cy + dy, { steps: 12 });
    await page.mouse.up();
  }
  const panFrames = await page.evaluate(() => { cancelAnimationFrame(window.__raf); return window.__frames.slice(1); });

  const zoom = [];
  for (const label of ["Zoom in", "Zoom in", "Zoom in", "Zoom out", "Zoom out", "Zoom out"]) {
    zoom.push(await page.evaluate(async (title) => {
      const element = document.querySelector(".desk-map");
      const button = element.querySelector(`a[title="${title}"]`);
      const settled = new Promise((resolve) => element.addEventListener("c2p:moveend", resolve, { once: true }));
      const started = performance.now();
      button.click();
      await settled;
      return performance.now() - started;
    }, label));
  }
  await browser.close();
  const out = {
    cpu_slowdown: RATE, runs: RUNS, facilities_drawn: facilities, gaps_answer_bytes: bytes,
    gaps_to_map_ms: stats(map), gaps_to_table_ms: stats(table),
    of_which_parse_ms: stats(parse), of_which_markers_ms: stats(markers),
    pan_frame_ms: { ...stats(panFrames), over_50ms: panFrames.filter((f) => f > 50).length },
    zoom_settle_ms: stats(zoom),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error) => { console.error(error); process.exit(1); });
