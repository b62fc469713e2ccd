// A coachee agrees the plan, starts an action, adds a photo through the file input
// while offline (it waits, with its marker), and it uploads once the network
// returns: shrunk to 1600 px with its capture time and GPS kept. The coach
// reviews it on their phone, and the coachee's phone shows the result live.
import { run, phone, signIn, waitForServiceWorker, shot, axe, step, base, PASSWORD } from "./lib.mjs";

const photo = process.env.C2P_PHOTO;
if (!photo) throw new Error("C2P_PHOTO: a JPEG with EXIF capture time and GPS");
const found = {};

async function api(path, { token, method = "GET", body } = {}) {
  const response = await fetch(`${base}/api/v1${path}`, {
    method, headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function token(username) {
  const r = await api("/auth/token", { method: "POST", body: { username, password: PASSWORD } });
  if (r.status !== 200) throw new Error(`sign-in ${username}: ${r.status}`);
  return r.body.access_token;
}

async function eventually(check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${check}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

await run(async (browser) => {
  step("a visit by the coach (API) gives the CSCom an improvement plan; the coach agrees it");
  const coach = await token("coach.niono");
  const items = ["cc_temp_twice_daily", "cc_in_range", "stock_no_expired", "stock_cards_up_to_date", "dq_monitoring_chart"];
  const visitId = crypto.randomUUID();
  const visit = await api("/submissions", { token: coach, method: "POST", body: {
    id: visitId, facility_id: "ML-SEG-NIO-CEN", template_code: "pev-mini", visited_at: new Date().toISOString(),
    coachees: [{ id: "u-dtc-niono", role: "dtc", name: "Fatoumata Diarra" }],
    answers: items.map((item) => ({ item, value: item === "cc_temp_twice_daily" ? "no" : "yes" })),
  } });
  if (visit.status !== 201) throw new Error(`submission: ${visit.status} ${JSON.stringify(visit.body)}`);
  const plan = await eventually(async () => {
    const r = await api(`/submissions/${visitId}/plan`, { token: coach });
    return r.status === 200 ? r.body : null;
  });
  const agreed = await api(`/plans/${plan.id}/agree`, { token: coach, method: "POST" });
  if (agreed.status !== 200) throw new Error(`coach agreement: ${agreed.status}`);

  step("the coachee signs in on their phone and agrees the plan");
  const context = await phone(browser);
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await signIn(page, "dtc.niono");
  await waitForServiceWorker(page);
  await page.getByRole("heading", { name: "Plans à valider ensemble" }).waitFor();
  await shot(page, "10-home-coachee");
  found["home-coachee"] = await axe(page);
  await page.getByRole("link", { name: "CSCom central de Niono" }).first().waitFor();
  await page.goto(`${base}/plans/${plan.id}`);
  await page.getByRole("button", { name: "Je valide ce plan" }).click();
  await page.getByText("Tout est envoyé").first().waitFor({ timeout: 60_000 });
  await page.getByText(/État\s:\s(Validé|En cours)/).waitFor({ timeout: 60_000 });

  step("the coachee starts the action");
  const action = page.getByRole("article").filter({ hasText: /température/i }).first();
  await action.getByRole("button", { name: "Commencer" }).click();
  await action.getByText("En cours").first().waitFor();
  await page.getByText("Tout est envoyé").first().waitFor({ timeout: 60_000 });

  step("offline: a photo through the file input waits on the phone");
  await context.setOffline(true);
  await page.getByText("Hors ligne").first().waitFor();
  await action.getByLabel("Choisir un fichier ou un PDF").setInputFiles(photo);
  await action.getByText("Non envoyé").first().waitFor();
  await page.getByText("1 en attente d'envoi").waitFor();
  await shot(page, "11-evidence-offline");
  found["plan-coachee"] = await axe(page);

  step("the network returns: the photo uploads by itself");
  await context.setOffline(false);
  await action.getByText("Reçue, en attente de l'avis du coach").waitFor({ timeout: 90_000 });
  await page.getByText("Tout est envoyé").first().waitFor();
  await shot(page, "12-evidence-sent");

  const actionId = (plan.actions.find((a) => a.item_code === "cc_temp_twice_daily") ?? plan.actions[0]).id;
  const listed = await eventually(async () => {
    const r = await api(`/actions/${actionId}/evidence`, { token: coach });
    return r.status === 200 && r.body.items.length ? r.body.items : null;
  });
  if (listed.length !== 1) throw new Error(`expected one evidence record, got ${listed.length}`);
  const [evidence] = listed;
  console.log(`EVIDENCE ${JSON.stringify({ width: evidence.width, height: evidence.height, size: evidence.size_bytes,
    captured_at: evidence.captured_at, gps: evidence.gps, content_type: evidence.content_type })}`);
  if (Math.max(evidence.width, evidence.height) > 1600) throw new Error("the photo was not shrunk");
  if (!evidence.captured_at || !evidence.gps) throw new Error("capture time or GPS lost in shrinking");

  step("the coach reviews it on their phone; the coachee's phone shows the result live");
  const coachContext = await phone(browser);
  const coachPage = await coachContext.newPage();
  await signIn(coachPage, "coach.niono");
  await coachPage.goto(`${base}/plans/${plan.id}`);
  const review = coachPage.getByRole("article").filter({ hasText: /température/i }).first();
  await review.getByLabel("Commentaire pour l'équipe").waitFor({ timeout: 60_000 });
  await review.getByLabel("Commentaire pour l'équipe").scrollIntoViewIfNeeded();
  await shot(coachPage, "13-review-coach");
  found["review"] = await axe(coachPage);
  await review.getByRole("button", { name: "Refuser" }).click();
  await review.getByText("Un commentaire est nécessaire").waitFor();
  await review.getByLabel("Commentaire pour l'équipe").fill("Photo prise trop loin : reprendre la fiche de température en entier.");
  await review.getByRole("button", { name: "Refuser" }).click();
  await coachPage.getByText("Tout est envoyé").first().waitFor({ timeout: 60_000 });

  await action.getByText("Refusée par le coach").waitFor({ timeout: 60_000 });
  await action.getByText(/reprendre la fiche de température en entier/).waitFor();
  await shot(page, "14-evidence-reviewed");
  await page.goto(`${base}/inbox`);
  await page.getByRole("heading", { name: "Messages" }).waitFor();
  await shot(page, "15-inbox");
  found["inbox"] = await axe(page);
  await page.goto(`${base}/settings`);
  await shot(page, "16-settings");
  found["settings"] = await axe(page);

  step("signing out wipes the phone's copy");
  await page.getByRole("button", { name: "Se déconnecter" }).click();
  await page.getByRole("button", { name: "Se connecter" }).waitFor();
  // The database was deleted; the app may have opened a new, empty one since.
  const left = await page.evaluate(async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === "c2p")) return 0;
    const database = await new Promise((resolve) => { const r = indexedDB.open("c2p"); r.onsuccess = () => resolve(r.result); });
    let count = 0;
    for (const name of database.objectStoreNames) {
      count += await new Promise((resolve) => {
        const r = database.transaction(name).objectStore(name).count();
        r.onsuccess = () => resolve(r.result);
      });
    }
    database.close();
    return count;
  });
  if (left !== 0) throw new Error(`${left} records left on the phone after sign-out`);
  await page.goto(`${base}/plans/${plan.id}`);
  await page.getByRole("button", { name: "Se connecter" }).waitFor();

  for (const [screen, violations] of Object.entries(found)) {
    if (violations.length) console.log(`axe ${screen}: ${JSON.stringify(violations)}`);
  }
  console.log(`AXE ${JSON.stringify(Object.fromEntries(Object.entries(found).map(([k, v]) => [k, v.length])))}`);
});
