// A coach signs in, the network goes off, a full 49-item visit is filled and
// submitted, the page is reloaded offline (the draft and the outbox survive), the
// network comes back, the visit is sent and its improvement plan appears.
import { run, phone, signIn, waitForServiceWorker, shot, axe, step, template, escape, base } from "./lib.mjs";

const FACILITY = "CSCom central de Niono";
const NIONO = { latitude: 14.2531, longitude: -5.9932, accuracy: 12 };
const found = {};

await run(async (browser) => {
  const context = await phone(browser, { geolocation: NIONO, permissions: ["geolocation"] });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  // A number input handed something that is not a number (a yes/no answer) says so here.
  const unparsed = [];
  page.on("console", (m) => { if (/cannot be parsed/.test(m.text())) unparsed.push(m.text()); });

  step("sign-in screen");
  await page.goto(`${base}/`);
  await page.getByRole("button", { name: "Se connecter" }).waitFor();
  await shot(page, "01-sign-in");
  found["sign-in"] = await axe(page);

  step("sign in online; the first sync downloads the template and the facilities");
  await signIn(page, "coach.niono");
  await waitForServiceWorker(page);
  await page.getByRole("button", { name: "Nouvelle visite" }).waitFor();
  await shot(page, "02-home-coach");
  found["home"] = await axe(page);

  step("the network goes off");
  await context.setOffline(true);
  await page.getByText("Hors ligne").first().waitFor();

  step("pick the facility: search, nearest first by GPS");
  await page.getByRole("button", { name: "Nouvelle visite" }).click();
  await page.getByLabel("Rechercher un CSCom").fill("niono");
  await page.getByRole("button", { name: "Les plus proches d'abord (GPS)" }).click();
  await page.getByRole("button", { name: "Triés par distance" }).waitFor();
  await shot(page, "03-facilities");
  found["facilities"] = await axe(page);
  await page.getByRole("button", { name: new RegExp(`^${escape(FACILITY)}`) }).click();

  step("fill the 49 items section by section (every item type)");
  const tpl = template("pev-integrated");
  let answered = 0;
  const given = {};
  for (const [index, section] of tpl.sections.entries()) {
    await page.getByRole("heading", { name: new RegExp(escape(section.title_fr)) }).waitFor();
    for (const [position, item] of section.items.entries()) {
      const group = page.getByRole("group", { name: new RegExp(escape(item.label_fr.slice(0, 60))) });
      if (item.type === "yes_no") {
        // One gap per section (the first yes/no item), the rest good practice.
        const answer = position === 0 ? "Non" : position === 1 && item.allow_na !== false ? "Partiel" : "Oui";
        await group.getByRole("radio", { name: answer, exact: true }).check();
        given[item.code] = answer;
      } else if (item.type === "numeric") {
        const [low] = item.pass_range;
        await group.getByRole("spinbutton").fill(String(low ?? item.pass_range[1]));
      } else {
        await group.getByRole("radio", { name: item.choices[0].label_fr, exact: true }).check();
      }
      answered += 1;
      if (index === 0 && position === 1) {
        await group.getByRole("button", { name: "Ajouter un commentaire" }).click();
        await group.getByLabel("Commentaire").fill("Thermomètre lu à 10 h, porte fermée.");
      }
    }
    if (index === 0) {
      await shot(page, "04-visit-section");
      found["visit"] = await axe(page);
      // A killed tab loses nothing: every answer is already on the phone.
      await page.reload();
      await page.getByText(`${section.items.length}/49`).first().waitFor();
      for (const item of section.items.filter((i) => given[i.code])) {
        const radio = page.getByRole("group", { name: new RegExp(escape(item.label_fr.slice(0, 60))) })
          .getByRole("radio", { name: given[item.code], exact: true });
        if (!(await radio.isChecked())) throw new Error(`the draft lost the answer to ${item.code} on reload`);
      }
      step("every field shows its own item's stored answer, whatever the navigation");
      const numberOf = (item) => page.getByRole("group", { name: new RegExp(escape(item.label_fr.slice(0, 60))) })
        .getByRole("spinbutton");
      const first = section.items.find((i) => i.type === "numeric");
      const typed = String(first.pass_range[0] ?? first.pass_range[1]);
      if (await numberOf(first).inputValue() !== typed) throw new Error(`${first.code} shows "${await numberOf(first).inputValue()}" after reload, ${typed} is stored`);
      // Section 5 has a number at the place of section 1's: it must come up empty.
      const later = tpl.sections.findIndex((s, i) => i > 0 && s.items[section.items.indexOf(first)]?.type === "numeric");
      const other = tpl.sections[later].items[section.items.indexOf(first)];
      for (let i = 0; i < later; i += 1) await page.getByRole("button", { name: "Suivant" }).click();
      await page.getByRole("heading", { name: new RegExp(escape(tpl.sections[later].title_fr)) }).waitFor();
      if (await numberOf(other).inputValue() !== "") throw new Error(`${other.code} (unanswered) shows "${await numberOf(other).inputValue()}"`);
      const elsewhere = String(first.valid_range[1] * 10); // out of section 1's range, within section 5's
      await numberOf(other).fill(elsewhere);
      for (let i = 0; i < later; i += 1) await page.getByRole("button", { name: "Précédent" }).click();
      await page.getByRole("heading", { name: new RegExp(escape(section.title_fr)) }).waitFor();
      if (await numberOf(first).inputValue() !== typed) throw new Error(`${first.code} shows "${await numberOf(first).inputValue()}" after going back, ${typed} is stored`);
      // Through the sections once more after a reload: no number input is given a yes/no answer.
      await page.reload();
      await page.getByRole("heading", { name: new RegExp(escape(section.title_fr)) }).waitFor();
      for (let i = 0; i < later; i += 1) await page.getByRole("button", { name: "Suivant" }).click();
      if (await numberOf(other).inputValue() !== elsewhere) throw new Error(`${other.code} shows "${await numberOf(other).inputValue()}" after reload, ${elsewhere} is stored`);
      for (let i = 0; i < later; i += 1) await page.getByRole("button", { name: "Précédent" }).click();
      await page.getByRole("heading", { name: new RegExp(escape(section.title_fr)) }).waitFor();
      if (unparsed.length) throw new Error(`a number input was given a non-number: ${unparsed[0]}`);
    }
    await page.getByRole("button", { name: "Suivant" }).click();
  }
  if (answered !== 49) throw new Error(`answered ${answered} items, expected 49`);

  step("closing: people met, GPS point, submit into the outbox");
  await page.getByRole("heading", { name: "Fin de visite et envoi" }).waitFor();
  await page.getByRole("checkbox", { name: "Fatoumata Diarra" }).check();
  await page.getByRole("button", { name: "Prendre la position" }).click();
  await page.getByText(/14,25310\s;\s-5,99320/).waitFor(); // French: decimal comma
  await page.getByLabel("Commentaire général").fill("Équipe accueillante ; chaîne du froid bien tenue.");
  await shot(page, "05-visit-closing");
  found["visit-closing"] = await axe(page);
  await page.getByRole("button", { name: "Terminer et envoyer" }).click();
  await page.getByText("Visite enregistrée. Elle partira dès que le réseau sera disponible.").waitFor();
  await page.getByText("1 en attente d'envoi").waitFor();

  step("reload offline: the app, the visit and the outbox survive");
  await page.reload();
  await page.getByText("1 en attente d'envoi").waitFor({ timeout: 30_000 });
  await page.getByText("Hors ligne").first().waitFor();
  await page.goto(`${base}/visits`);
  await page.getByRole("link", { name: new RegExp(`${escape(FACILITY)}.*En attente d'envoi`) }).waitFor();
  await shot(page, "06-visits-offline");
  found["visits"] = await axe(page);
  await page.getByRole("button", { name: /1 en attente d'envoi/ }).click();
  await page.getByRole("heading", { name: "En attente d'envoi" }).waitFor();
  await shot(page, "07-sync-offline");
  found["sync"] = await axe(page);

  step("the network returns: the visit is sent by itself, then its plan appears");
  await context.setOffline(false);
  await page.getByText("Tout est envoyé").first().waitFor({ timeout: 60_000 });
  await page.goto(`${base}/plans`);
  // Until the server has written it, the visit has a line of its own ("en
  // préparation", a link to the visit); the plan replaces it by itself.
  const plan = page.locator('a[href^="/plans/"]', { hasText: FACILITY });
  await plan.waitFor({ timeout: 60_000 });
  await page.getByText("Plan d'amélioration en préparation sur le serveur").waitFor({ state: "detached" });
  await shot(page, "08-plans");
  found["plans"] = await axe(page);
  await plan.click();
  await page.getByRole("heading", { name: /Actions \(\d+\)/ }).waitFor();
  await shot(page, "09-plan-coach");
  found["plan"] = await axe(page);
  await page.goto(`${base}/visits`);
  await page.getByRole("link", { name: new RegExp(`${escape(FACILITY)}.*Envoyée`) }).waitFor();

  step("home: the new plan waits for the coach's agreement, dated; each action listed once");
  await page.goto(`${base}/`);
  await page.getByRole("link", { name: new RegExp(`${escape(FACILITY)}.*Visite du`) }).first().waitFor();
  const links = page.locator('a[href*="#action-"]');
  await links.first().waitFor();
  const hrefs = await links.evaluateAll((all) => all.map((a) => a.getAttribute("href")));
  const ids = hrefs.map((h) => h.split("#")[1]);
  if (new Set(ids).size !== ids.length) throw new Error(`home lists an action more than once: ${ids.join(" ")}`);

  step("an action tapped on home opens its plan at that action's card, focused");
  const target = ids[ids.length - 1]; // the last: far down its plan
  await links.last().click();
  await page.waitForFunction((id) => document.activeElement?.id === id, target, { timeout: 15_000 });
  const seen = await page.evaluate((id) => {
    const top = document.getElementById(id).getBoundingClientRect().top;
    return top >= document.querySelector(".head").getBoundingClientRect().bottom - 1 && top < innerHeight - 60;
  }, target);
  if (!seen) throw new Error(`the card of ${target} is not on screen after following its link`);
  await shot(page, "10-plan-at-action");

  for (const [screen, violations] of Object.entries(found)) {
    if (violations.length) console.log(`axe ${screen}: ${JSON.stringify(violations)}`);
  }
  console.log(`AXE ${JSON.stringify(Object.fromEntries(Object.entries(found).map(([k, v]) => [k, v.length])))}`);
});
