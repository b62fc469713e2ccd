// The desk view as a district coach uses it, in French (issue 14):
// - three visits are seeded through the API (a green, an amber and a red-and-critical
//   one); the map paints each facility in its colour (read from the map's canvas at
//   the facility's point) and the table says the same in words;
// - the visits and gaps exports download, and their rows match the API;
// - a visit's PDF report downloads from the facility page;
// - every view is screenshot and checked by axe-core (printed, as the field app's).
import { readFileSync } from "node:fs";
import { run, shot, axe, step, base } from "./lib.mjs";
import { api, token, eventually, desk, deskSignIn } from "./desk-lib.mjs";

const found = {};
const ITEMS = ["cc_temp_twice_daily", "cc_in_range", "stock_no_expired", "stock_cards_up_to_date", "dq_monitoring_chart"];
// facility -> the answers "no" of its visit, and the colour the template's thresholds give
const SEEDED = {
  "ML-SEG-NIO-POG": { no: [], colour: "green", flagged: false },                                        // 12/12 = 100 %
  "ML-SEG-NIO-SOK": { no: ["cc_temp_twice_daily", "dq_monitoring_chart"], colour: "amber", flagged: false }, // 8/12
  "ML-SEG-NIO-NAM": { no: ["cc_temp_twice_daily", "cc_in_range", "dq_monitoring_chart"], colour: "red", flagged: true }, // 5/12
};
const FILLS = { green: [0x1a, 0x7f, 0x37], amber: [0xc7, 0x77, 0x00], red: [0xc6, 0x28, 0x28] };

function parseCsv(text) {
  // RFC 4180 as Python's csv module writes it (quotes doubled, CRLF), after the BOM.
  const rows = [];
  let row = [], cell = "", quoted = false;
  const s = text.replace(/^\ufeff/, "");
  for (let i = 0; i < s.length; i += 1) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') { cell += '"'; i += 1; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n") { row.push(cell.replace(/\r$/, "")); rows.push(row); row = []; cell = ""; }
    else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

async function download(page, click) {
  const [file] = await Promise.all([page.waitForEvent("download"), click()]);
  return readFileSync(await file.path());
}

await run(async (browser) => {
  step("three visits of Niono's centres are seeded through the API");
  const coach = await token("coach.niono");
  const visitIds = {};
  for (const [facility, { no }] of Object.entries(SEEDED)) {
    const id = crypto.randomUUID();
    const r = await api("/submissions", { token: coach, method: "POST", body: {
      id, facility_id: facility, template_code: "pev-mini", visited_at: new Date().toISOString(),
      coachees: [], answers: ITEMS.map((item) => ({ item, value: no.includes(item) ? "no" : "yes" })),
    } });
    if (r.status !== 201) throw new Error(`submission ${facility}: ${r.status} ${JSON.stringify(r.body)}`);
    visitIds[facility] = id;
  }

  step("the coach opens the map of their district for that checklist");
  const context = await desk(browser);
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => { pageErrors.push(e.message); console.error("page error:", e.message); });
  await deskSignIn(page, "coach.niono");
  await page.goto(`${base}/desk?template=pev-mini&area=ML-SEG-NIO`);
  await page.getByRole("heading", { name: "Écarts par lieu" }).waitFor();
  await page.waitForFunction((ids) => {
    const drawn = window.c2pDeskMap?.markers;
    return drawn && ids.every((id) => drawn.has(id));
  }, Object.keys(SEEDED), { timeout: 60_000 });
  await page.waitForTimeout(800); // the fit's animation ends and the canvas is painted
  const colours = await page.evaluate((ids) => {
    const { map, markers } = window.c2pDeskMap;
    const canvas = map.getContainer().querySelector("canvas");
    const rect = canvas.getBoundingClientRect();
    const box = map.getContainer().getBoundingClientRect();
    const context = canvas.getContext("2d");
    return Object.fromEntries(ids.map((id) => {
      const point = map.latLngToContainerPoint(markers.get(id).getLatLng());
      const x = Math.round((box.left + point.x - rect.left) * (canvas.width / rect.width));
      const y = Math.round((box.top + point.y - rect.top) * (canvas.height / rect.height));
      return [id, Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3))];
    }));
  }, Object.keys(SEEDED));
  for (const [facility, { colour }] of Object.entries(SEEDED)) {
    const got = colours[facility];
    const want = FILLS[colour];
    if (got.some((v, i) => Math.abs(v - want[i]) > 12)) {
      throw new Error(`${facility}: painted rgb(${got}) on the map, expected ${colour} rgb(${want})`);
    }
  }
  console.log(`MAP ${JSON.stringify(colours)}`);
  await shot(page, "desk-01-map-district");
  found["map"] = await axe(page);

  step("leaving the map while it zooms raises no page error (Leaflet torn down mid-animation)");
  const onMap = async () => {
    await page.goto(`${base}/desk?template=pev-mini&area=ML-SEG-NIO`);
    await page.waitForFunction((ids) => ids.every((id) => window.c2pDeskMap?.markers?.has(id)),
      Object.keys(SEEDED), { timeout: 60_000 });
    await page.waitForTimeout(800);
  };
  // An animated zoom is under way (its first frames have run, its end is 250 ms
  // away) when the user clicks another tab.
  await page.evaluate(() => new Promise((resolve) => {
    const { map } = window.c2pDeskMap;
    map.setZoom(map.getZoom() + 1, { animate: true });
    requestAnimationFrame(() => requestAnimationFrame(() => {
      document.querySelector('.desk-nav a[href="/desk/progress"]').click();
      resolve();
    }));
  }));
  await page.getByRole("heading", { name: "Progrès des coachés" }).waitFor();
  await page.waitForTimeout(800);
  // A scroll-wheel zoom is waiting for the wheel to stop when the user leaves.
  await onMap();
  const box = await page.locator(".desk-map").boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -400);
  await page.evaluate(() => document.querySelector('.desk-nav a[href="/desk/championship"]').click());
  await page.getByRole("heading", { name: "Championnat" }).waitFor();
  await page.waitForTimeout(800);
  // The data of the map still on its way when the user leaves.
  await page.goto(`${base}/desk?template=pev-mini&area=ML-SEG-NIO`);
  await page.locator(".desk-map").waitFor();
  await page.evaluate(() => document.querySelector('.desk-nav a[href="/desk/exports"]').click());
  await page.getByRole("heading", { name: "Exports" }).waitFor();
  await page.waitForTimeout(1500);
  if (pageErrors.length) throw new Error(`page errors after leaving the map: ${pageErrors.join(" | ")}`);
  await onMap();

  step("the table says the same in words");
  await page.getByRole("button", { name: "Tableau" }).click();
  const words = { green: "Bon", amber: "Moyen", red: "Faible" };
  for (const [facility, { colour, flagged }] of Object.entries(SEEDED)) {
    const name = (await api(`/facilities/${facility}`, { token: coach })).body.facility.name;
    const row = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name }) });
    await row.getByText(words[colour], { exact: true }).waitFor();
    if (flagged !== ((await row.getByText("Critique", { exact: true }).count()) > 0)) {
      throw new Error(`${facility}: critical flag shown wrongly`);
    }
  }
  await shot(page, "desk-02-table-district");
  found["table"] = await axe(page);

  step("the facility page: trend by section, visits, plans; its PDF report downloads");
  await page.getByRole("link", { name: "CSCom de Nampala" }).click();
  await page.getByRole("heading", { name: "Évolution du score par section" }).waitFor();
  await page.locator(".trend-chart canvas").first().waitFor();
  await shot(page, "desk-03-facility");
  found["facility"] = await axe(page);
  const pdf = await download(page, () => page.getByRole("button", { name: "Rapport PDF" }).first().click());
  if (pdf.subarray(0, 5).toString() !== "%PDF-") throw new Error("the report is not a PDF");

  step("exports: the visits and the gaps of the period, matching the API");
  await page.getByRole("link", { name: "Exports" }).click();
  await page.getByRole("heading", { name: "Exports" }).waitFor();
  await shot(page, "desk-04-exports");
  found["exports"] = await axe(page);
  const since = await page.getByLabel("Du", { exact: true }).inputValue();
  const until = await page.getByLabel("Au", { exact: true }).inputValue();
  const visitsCsv = parseCsv(readFileSync(await (await Promise.all([page.waitForEvent("download"),
    page.getByRole("button", { name: "Télécharger les visites (CSV)" }).click()]))[0].path(), "utf-8"));
  const gapsCsv = parseCsv((await download(page, () =>
    page.getByRole("button", { name: "Télécharger les écarts (CSV)" }).click())).toString("utf-8"));
  const listed = [];
  for (let p = 1; ; p += 1) {
    const r = await api(`/submissions?since=${since}&until=${until}&per_page=100&page=${p}`, { token: coach });
    listed.push(...r.body.items);
    if (listed.length >= r.body.total || r.body.items.length === 0) break;
  }
  const fromApi = new Map(listed.map((v) => [v.id, v]));
  if (visitsCsv.length !== fromApi.size) throw new Error(`visits CSV: ${visitsCsv.length} rows, API: ${fromApi.size}`);
  for (const row of visitsCsv) {
    const v = fromApi.get(row.submission_id);
    if (!v || Number(row.percent) !== v.percent || row.colour !== v.colour || row.facility_id !== v.facility_id
        || Number(row.gaps) !== v.gaps) {
      throw new Error(`visits CSV row ${JSON.stringify(row)} differs from the API: ${JSON.stringify(v)}`);
    }
  }
  const gapsBy = {};
  for (const row of gapsCsv) gapsBy[row.submission_id] = (gapsBy[row.submission_id] ?? 0) + 1;
  for (const v of listed) {
    if ((gapsBy[v.id] ?? 0) !== v.gaps) throw new Error(`gaps CSV: ${gapsBy[v.id] ?? 0} rows for ${v.id}, API: ${v.gaps}`);
  }
  for (const [facility, id] of Object.entries(visitIds)) {
    if (!fromApi.has(id)) throw new Error(`the seeded visit of ${facility} is not in the export`);
  }
  console.log(`EXPORT ${JSON.stringify({ visits: visitsCsv.length, gaps: gapsCsv.length })}`);

  step("the other views: progress, championship (and its print sheet)");
  await page.getByRole("link", { name: "Progrès des coachés" }).click();
  await page.getByRole("heading", { name: "Progrès des coachés" }).waitFor();
  await page.getByRole("button", { name: "Par centre" }).click();
  const nampala = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "CSCom de Nampala" }) });
  await nampala.waitFor();
  const openBefore = Number(await nampala.locator("td").nth(2).innerText());
  await page.evaluate(() => { window.__sameDocument = true; });
  step("the coach drops one of Nampala's actions (API): the figures change live");
  const namPlan = await eventually(async () => {
    const r = await api(`/submissions/${visitIds["ML-SEG-NIO-NAM"]}/plan`, { token: coach });
    return r.status === 200 ? r.body : null;
  });
  const dropping = namPlan.actions.find((a) => !["done", "dropped"].includes(a.status));
  const dropped = await api(`/plans/${namPlan.id}/actions/${dropping.id}/status`, { token: coach, method: "POST",
    body: { status: "dropped", reason: "Déjà réglé par le district" } });
  if (dropped.status !== 200) throw new Error(`drop: ${dropped.status} ${JSON.stringify(dropped.body)}`);
  await eventually(async () => Number(await nampala.locator("td").nth(2).innerText()) < openBefore, 60_000);
  if (!(await page.evaluate(() => window.__sameDocument === true))) throw new Error("the page was reloaded");
  await nampala.getByText("En difficulté").waitFor();
  await shot(page, "desk-05-progress");
  found["progress"] = await axe(page);
  await page.getByRole("link", { name: "Championnat" }).click();
  await page.getByRole("table").waitFor();
  await shot(page, "desk-06-championship");
  found["championship"] = await axe(page);
  await page.emulateMedia({ media: "print" });
  await shot(page, "desk-07-championship-print");
  await page.emulateMedia({ media: "screen" });

  step("a champion's roll-ups by region and district; English works too");
  const champion = await (await desk(browser, { tablet: true })).newPage();
  await deskSignIn(champion, "champion.segou");
  await champion.goto(`${base}/desk/rollups`);
  await champion.getByRole("heading", { name: "Synthèses par district et région" }).waitFor();
  await champion.getByRole("button", { name: "Par district" }).click();
  await champion.getByRole("table").getByRole("link", { name: "Niono" }).waitFor();
  await shot(champion, "desk-08-rollups-tablet");
  found["rollups"] = await axe(champion);
  await champion.getByRole("button", { name: "English" }).click();
  await champion.getByRole("heading", { name: "District and region roll-ups" }).waitFor();
  await champion.goto(`${base}/desk`);
  await champion.getByRole("heading", { name: "Gaps by location" }).waitFor();
  await champion.getByText(/centres visited/).waitFor({ timeout: 60_000 });
  await champion.waitForTimeout(600); // the map's framing animation
  await shot(champion, "desk-09-map-region-tablet-en");
  found["map-en"] = await axe(champion);

  step("on a phone (390 px) no desk view pushes the page sideways");
  await champion.setViewportSize({ width: 390, height: 844 });
  for (const [path, heading] of [["/desk", "Gaps by location"], ["/desk/rollups", "District and region roll-ups"]]) {
    await champion.goto(`${base}${path}`);
    await champion.getByRole("heading", { name: heading }).waitFor();
    await champion.getByRole("table").or(champion.locator(".desk-map")).first().waitFor();
    const wide = await champion.evaluate(() => document.documentElement.scrollWidth);
    if (wide > 390) throw new Error(`${path} is ${wide} px wide on a 390 px phone`);
  }
  await shot(champion, "desk-10-rollups-phone-en");

  if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join(" | ")}`);

  for (const [screen, violations] of Object.entries(found)) {
    if (violations.length) console.log(`axe ${screen}: ${JSON.stringify(violations)}`);
  }
  console.log(`AXE ${JSON.stringify(Object.fromEntries(Object.entries(found).map(([k, v]) => [k, v.length])))}`);
});
