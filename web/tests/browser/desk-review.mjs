// The review queue, live (issue 14): the coach has the queue open at their desk; a
// coachee sends a photo; it appears in the queue without a reload; the coach rejects
// it from the keyboard, a comment being required; the coachee's phone shows the comment.
import { readFileSync } from "node:fs";
import { run, phone, signIn, shot, axe, step, base } from "./lib.mjs";
import { api, token, eventually, desk, deskSignIn } from "./desk-lib.mjs";

const photo = process.env.C2P_PHOTO;
if (!photo) throw new Error("C2P_PHOTO: a JPEG with EXIF capture time and GPS");
const found = {};

await run(async (browser) => {
  step("a visit by the coach (API) gives the CSCom a plan with an action to prove");
  const coach = await token("coach.niono");
  const visitId = crypto.randomUUID();
  const items = ["cc_temp_twice_daily", "cc_in_range", "stock_no_expired", "stock_cards_up_to_date", "dq_monitoring_chart"];
  const visit = await api("/submissions", { token: coach, method: "POST", body: {
    id: visitId, facility_id: "ML-SEG-NIO-CEN", template_code: "pev-mini", visited_at: new Date().toISOString(),
    coachees: [{ id: "u-dtc-niono", role: "dtc", name: "Fatoumata Diarra" }],
    answers: items.map((item) => ({ item, value: item === "stock_cards_up_to_date" ? "no" : "yes" })),
  } });
  if (visit.status !== 201) throw new Error(`submission: ${visit.status} ${JSON.stringify(visit.body)}`);
  const plan = await eventually(async () => {
    const r = await api(`/submissions/${visitId}/plan`, { token: coach });
    return r.status === 200 ? r.body : null;
  });
  const action = plan.actions.find((a) => a.item_code === "stock_cards_up_to_date") ?? plan.actions[0];

  step("the coach opens the review queue at their desk");
  const context = await desk(browser);
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await deskSignIn(page, "coach.niono");
  await page.goto(`${base}/desk/review`);
  await page.getByRole("heading", { name: "Preuves à revoir" }).waitFor();
  await page.evaluate(() => { window.__sameDocument = true; });

  step("the coachee sends a photo of the stock cards");
  const dtc = await token("dtc.niono");
  const evidenceId = crypto.randomUUID();
  const filename = `fiches-de-stock-${evidenceId.slice(0, 6)}.jpg`;
  const sent = await fetch(`${base}/api/v1/evidence/${evidenceId}/content?action_id=${action.id}&filename=${filename}`, {
    method: "PUT", body: readFileSync(photo), headers: { Authorization: `Bearer ${dtc}`, "Content-Type": "image/jpeg" } });
  if (sent.status !== 201) throw new Error(`upload: ${sent.status} ${await sent.text()}`);

  step("it appears in the coach's queue, live, with its thumbnail, capture time and distance");
  const item = page.getByRole("article", { name: new RegExp(filename) });
  await item.waitFor({ timeout: 60_000 });
  if (!(await page.evaluate(() => window.__sameDocument === true))) throw new Error("the page was reloaded");
  await item.getByRole("img", { name: `Aperçu de ${filename}` }).waitFor();
  await item.getByText("Distance du centre").waitFor();

  step("the item says what it proves: the action's text, its verification, who sent it");
  await item.getByText(action.text_fr, { exact: false }).first().waitFor({ timeout: 30_000 });
  if (action.verification_fr) await item.getByText(action.verification_fr, { exact: false }).first().waitFor();
  await item.getByText("Envoyée par").waitFor();
  await item.getByText("Fatoumata Diarra").waitFor();
  await shot(page, "desk-20-review-queue");
  found["review-queue"] = await axe(page);

  step("the coach rejects it from the keyboard: R, a comment is required, Enter sends it");
  await item.focus();
  await page.keyboard.press("r");
  const comment = item.getByLabel("Commentaire pour le coaché (obligatoire)");
  await comment.waitFor();
  if (!(await comment.evaluate((el) => el === document.activeElement))) throw new Error("the comment box has not the focus");
  await page.keyboard.press("Enter");
  await item.getByText("Écrivez un commentaire : le coaché doit savoir quoi changer.").waitFor();
  await shot(page, "desk-21-review-comment-required");
  const text = "La fiche n'est pas lisible : reprenez la photo de près, toute la page.";
  await comment.fill(text);
  await page.keyboard.press("Enter");
  await item.waitFor({ state: "detached", timeout: 30_000 });
  await page.getByText(/rejetée\s; le coaché verra votre commentaire/).first().waitFor();
  const stored = (await api(`/evidence/${evidenceId}`, { token: coach })).body;
  if (stored.status !== "rejected" || stored.review?.comment !== text) {
    throw new Error(`stored review: ${JSON.stringify(stored.review)} (${stored.status})`);
  }

  step("on the coach's phone (360 × 740): a compact tab bar that scrolls, no keyboard hint");
  const coachPhone = await (await phone(browser)).newPage();
  coachPhone.on("pageerror", (e) => console.error("page error:", e.message));
  await deskSignIn(coachPhone, "coach.niono");
  await coachPhone.goto(`${base}/desk/review`);
  await coachPhone.getByRole("heading", { name: "Preuves à revoir" }).waitFor();
  const bar = await coachPhone.evaluate(() => {
    const nav = document.querySelector(".desk-nav");
    const list = nav.querySelector("ul");
    const current = nav.querySelector("[aria-current='page']").getBoundingClientRect();
    return { height: nav.getBoundingClientRect().height, scrolls: list.scrollWidth > list.clientWidth,
      overflow: getComputedStyle(list).overflowX, currentInView: current.left >= -1 && current.right <= window.innerWidth + 1,  // snapped: subpixel
      hint: getComputedStyle(document.querySelector(".keys-hint")).display,
      mainTop: document.querySelector(".desk-main").getBoundingClientRect().top };
  });
  console.log(`PHONE ${JSON.stringify(bar)}`);
  if (bar.height > 64) throw new Error(`the tab bar is ${bar.height} px tall on a phone`);
  if (bar.scrolls && bar.overflow !== "auto") throw new Error("the tabs overflow without scrolling");
  if (!bar.currentInView) throw new Error("the current tab is scrolled out of sight");
  if (bar.hint !== "none") throw new Error("a keyboard hint is shown on a touch screen");
  await shot(coachPhone, "desk-23-review-phone");

  step("the coachee's phone shows the coach's comment");
  const phoneContext = await phone(browser);
  const coachee = await phoneContext.newPage();
  await signIn(coachee, "dtc.niono");
  await coachee.goto(`${base}/plans/${plan.id}`);
  await coachee.getByText(/toute la page/).first().waitFor({ timeout: 60_000 });
  await coachee.getByText(/toute la page/).first().scrollIntoViewIfNeeded();
  await shot(coachee, "desk-22-coachee-sees-comment");

  for (const [screen, violations] of Object.entries(found)) {
    if (violations.length) console.log(`axe ${screen}: ${JSON.stringify(violations)}`);
  }
  console.log(`AXE ${JSON.stringify(Object.fromEntries(Object.entries(found).map(([k, v]) => [k, v.length])))}`);
});
