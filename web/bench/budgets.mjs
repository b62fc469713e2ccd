// The web app's budgets (issue 13), measured, not asserted:
//   - first load: the JS and CSS a phone downloads to show the sign-in screen, and
//     then the home screen, gzip-compressed (what a compressing proxy would send);
//   - with Chromium's "Slow 3G" network profile and 4x CPU slowdown (DevTools
//     protocol): time to a usable sign-in screen (cold, then from the service
//     worker), to open a 49-item visit, and to save an answer;
//   - axe-core: serious and critical violations on the screens visited.
//
//   node bench/budgets.mjs <base-url> [--runs 3]      (prints JSON on the last line)
// bench/web_budgets.py starts a platform and runs this.
import { gzipSync, brotliCompressSync } from "node:zlib";
import { launch, phone, axe, PASSWORD } from "../tests/browser/lib.mjs";

const base = process.argv[2] ?? process.env.C2P_BASE_URL ?? "http://127.0.0.1:8000";
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 3;

// Chromium DevTools' "Slow 3G" preset (front_end/core/sdk/NetworkManager.ts):
// 400 kbit/s down and up after the 0.8 factor, 2000 ms round trip (400 ms x 5).
const SLOW_3G = { offline: false, latency: 2000, downloadThroughput: (500 * 1000) / 8 * 0.8, uploadThroughput: (500 * 1000) / 8 * 0.8 };
const CPU_SLOWDOWN = 4;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function throttle(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", SLOW_3G);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
  return cdp;
}

async function unthrottle(cdp) {
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
}

/** JS and CSS fetched by the page, by URL, with their bytes. */
function recordAssets(page) {
  const seen = new Map();
  page.on("response", async (response) => {
    const url = response.url();
    if (!/\.(js|css)(\?|$)/.test(url) || url.includes("/api/")) return;
    try { seen.set(url, await response.body()); } catch { /* from the service worker, already counted */ }
  });
  return seen;
}

function sizes(assets) {
  let raw = 0, gzip = 0, brotli = 0;
  for (const body of assets.values()) {
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
    brotli += brotliCompressSync(body).length;
  }
  return { files: assets.size, raw_kb: +(raw / 1024).toFixed(1), gzip_kb: +(gzip / 1024).toFixed(1), brotli_kb: +(brotli / 1024).toFixed(1) };
}

async function signIn(page, username) {
  await page.getByLabel("Identifiant").fill(username);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByText(/Dernière synchro\s:\s(?!jamais)/).first().waitFor({ timeout: 120_000 });
}

const browser = await launch();
const result = { profile: { network: "Slow 3G (2000 ms RTT, 400 kbit/s)", cpu_slowdown: CPU_SLOWDOWN }, runs };
try {
  // --- first load, and time to a usable sign-in screen (cold: nothing cached) ---
  const cold = [];
  let firstLoad, homeLoad;
  for (let i = 0; i < runs; i += 1) {
    const context = await phone(browser);
    const page = await context.newPage();
    const assets = recordAssets(page);
    const cdp = await throttle(page);
    const start = Date.now();
    await page.goto(`${base}/`, { waitUntil: "commit" });
    await page.getByRole("button", { name: "Se connecter" }).waitFor({ timeout: 120_000 });
    cold.push(Date.now() - start);
    await page.waitForLoadState("networkidle").catch(() => undefined);
    if (i === 0) {
      firstLoad = sizes(assets);
      result.axe_sign_in = await axe(page);
      await unthrottle(cdp);
      await signIn(page, "coach.niono");
      await page.getByRole("button", { name: "Nouvelle visite" }).waitFor();
      await page.waitForLoadState("networkidle").catch(() => undefined);
      homeLoad = sizes(assets);
      result.axe_home = await axe(page);

      // --- warm start: the app shell from the service worker, throttled ---
      const warm = [];
      await page.evaluate(async () => { await navigator.serviceWorker.ready; });
      await throttle(page);
      for (let j = 0; j < runs; j += 1) {
        const t0 = Date.now();
        await page.reload({ waitUntil: "commit" });
        await page.getByRole("button", { name: "Nouvelle visite" }).waitFor({ timeout: 120_000 });
        warm.push(Date.now() - t0);
      }
      result.warm_start_ms = { median: median(warm), all: warm };

      // --- open a 49-item visit (pick the facility -> first section shown) ---
      const open = [];
      const save = [];
      for (let j = 0; j < runs; j += 1) {
        await page.goto(`${base}/facilities`);
        const facility = page.getByRole("button", { name: /^CSCom central de Niono/ });
        await facility.waitFor({ timeout: 120_000 });
        const t0 = Date.now();
        await facility.click();
        await page.getByRole("heading", { name: /Chaîne du froid/ }).waitFor({ timeout: 120_000 });
        await page.getByRole("radio").first().waitFor();
        open.push(Date.now() - t0);
        if (j === 0) result.axe_visit = await axe(page);
        // --- save an answer: tap "Oui" -> shown selected, and stored in IndexedDB ---
        const group = page.getByRole("group").filter({ has: page.getByRole("radio", { name: "Oui", exact: true }) }).first();
        const radio = group.getByRole("radio", { name: "Oui", exact: true });
        const handle = await radio.elementHandle();
        const timing = await page.evaluate(async (input) => {
          const draftId = location.pathname.split("/").pop();
          const code = input.name.replace(/^item-/, "");
          const read = () => new Promise((resolve) => {
            const open = indexedDB.open("c2p");
            open.onsuccess = () => {
              const get = open.result.transaction("drafts").objectStore("drafts").get(draftId);
              get.onsuccess = () => { open.result.close(); resolve(get.result); };
            };
          });
          const t0 = performance.now();
          input.click();
          let shown = null;
          for (;;) {
            if (shown === null && input.closest("label")?.classList.contains("selected")) shown = performance.now() - t0;
            const draft = await read();
            if (draft?.answers?.[code]?.value === "yes") {
              if (shown === null) {
                await new Promise((r) => requestAnimationFrame(() => r(null)));
                shown = performance.now() - t0;
              }
              return { shown, stored: performance.now() - t0 };
            }
          }
        }, handle);
        save.push(timing);
      }
      result.open_visit_ms = { median: median(open), all: open };
      result.save_answer_ms = {
        shown_median: +median(save.map((s) => s.shown)).toFixed(1),
        stored_median: +median(save.map((s) => s.stored)).toFixed(1),
        all: save.map((s) => ({ shown: +s.shown.toFixed(1), stored: +s.stored.toFixed(1) })),
      };
    }
    await context.close();
  }
  result.first_load_sign_in = firstLoad;
  result.first_load_through_home = homeLoad;
  result.usable_sign_in_cold_ms = { median: median(cold), all: cold };
  result.axe_serious_or_critical = {
    "sign-in": result.axe_sign_in.length, home: result.axe_home.length, visit: result.axe_visit.length,
  };
  delete result.axe_sign_in; delete result.axe_home; delete result.axe_visit;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
