// Shared by the browser tests: Debian's Chromium through playwright-core (no browser
// download), a low-end Android phone's screen, sign-in, screenshots, an axe-core pass.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";

export const base = process.env.C2P_BASE_URL ?? "http://127.0.0.1:8000";
export const shotsDir = process.env.C2P_SHOTS ?? join(dirname(fileURLToPath(import.meta.url)), "..", "..", "screenshots");
export const PASSWORD = process.env.C2P_PASSWORD ?? "demo-c2p-2025";
const executablePath = process.env.C2P_CHROMIUM ?? "/usr/bin/chromium";
export const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launch() {
  return chromium.launch({ executablePath, args: FLAGS, headless: true });
}

/** A phone: 360 × 740 CSS px (a common low-end Android screen), touch, French. */
export async function phone(browser, extra = {}) {
  return browser.newContext({
    viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    locale: "fr-FR", timezoneId: "Africa/Bamako", serviceWorkers: "allow",
    userAgent: "Mozilla/5.0 (Linux; Android 11; itel A70) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    ...extra,
  });
}

export function step(text) {
  console.log(`- ${text}`);
}

export async function signIn(page, username) {
  await page.goto(`${base}/`);
  await page.getByLabel("Identifiant").fill(username);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  // The first sync has run when the last-sync time is shown.
  await page.getByText(/Dernière synchro\s:\s(?!jamais)/).first().waitFor({ timeout: 60_000 });
}

/** The service worker controls the page: from now on the app opens with no network. */
export async function waitForServiceWorker(page) {
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) {
    await page.reload();
    await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 30_000 });
  }
}

export async function shot(page, name) {
  mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: false });
}

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf-8");

/** axe-core on the current screen: the serious and critical violations (empty is good). */
export async function axe(page) {
  // Injected through a CDP script rather than a <script> tag: the page's CSP allows no inline script.
  const session = await page.context().newCDPSession(page);
  await session.send("Runtime.evaluate", { expression: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  await session.detach();
  return result;
}

export const templatePath = (code) =>
  join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "services", "checklist", "checklist", "templates", `${code}.json`);

export function template(code) {
  return JSON.parse(readFileSync(templatePath(code), "utf-8"));
}

export function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Run `main`, print the error and exit 1 on failure (pytest reads the exit code and output). */
export async function run(main) {
  const browser = await launch();
  try {
    await main(browser);
    console.log("OK");
  } catch (error) {
    console.error(error?.stack ?? String(error));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

export { pathToFileURL };
