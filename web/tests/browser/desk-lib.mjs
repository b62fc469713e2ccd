// Pieces of the desk view's browser tests (besides ./lib.mjs, shared with the field
// app's): the API through fetch, a desk or tablet screen, signing in to the desk.
import { base, PASSWORD } from "./lib.mjs";

export async function api(path, { token, method = "GET", body } = {}) {
  const response = await fetch(`${base}/api/v1${path}`, {
    method, headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
  return { status: response.status, body: parsed, headers: response.headers };
}

export async function token(username) {
  const r = await api("/auth/token", { method: "POST", body: { username, password: PASSWORD } });
  if (r.status !== 200) throw new Error(`sign-in ${username}: ${r.status}`);
  return r.body.access_token;
}

export async function eventually(check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${check}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A desk (1366 × 900) or, with `tablet`, a 10-inch tablet held landscape; French. */
export async function desk(browser, { tablet = false, ...extra } = {}) {
  return browser.newContext({
    viewport: tablet ? { width: 1024, height: 768 } : { width: 1366, height: 900 },
    hasTouch: tablet, locale: "fr-FR", timezoneId: "Africa/Bamako", acceptDownloads: true, ...extra,
  });
}

/** Sign in through the app's form, then wait for the desk (or the field home) to show. */
export async function deskSignIn(page, username) {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel("Identifiant").fill(username);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"), { timeout: 60_000 });
}
