// French in every French string the app shows: the catalogue (src/i18n/fr.ts,
// which spreads the desk's src/desk/i18n.ts) and any French the code writes itself.
// French puts a no-break space before : ; ? ! and %, and inside « », so a line never
// starts with the punctuation; quotes are « », not "..." or “...”. The catalogue's
// no-break space is U+00A0 (written \u00a0), one kind only. And no English is left
// on a French screen ("Engagement (Will)").
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fr } from "../../src/i18n/fr";
import { en } from "../../src/i18n/en";

const NBSP = "\u00a0";
const show = (text: string) => text.replace(/\u00a0/g, "⍽").replace(/\u202f/g, "⍿");

/** Every typographic fault of one French string, described (empty when right). */
function faults(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(.?)([:;?!])/g)) {
    if (m[1] !== NBSP) found.push(`"${m[2]}" after ${m[1] === "" ? "nothing" : m[1] === " " ? "a plain space" : `"${show(m[1])}"`}`);
  }
  for (const m of text.matchAll(/([\d}])(\s?)%/g)) {
    if (m[2] !== NBSP) found.push(`"%" after ${m[2] ? "a plain space" : "no space"}`);
  }
  for (const m of text.matchAll(/«(.?)/g)) if (m[1] !== NBSP) found.push("« not followed by a no-break space");
  for (const m of text.matchAll(/(.?)»/g)) if (m[1] !== NBSP) found.push("» not preceded by a no-break space");
  if (/["“”„]/.test(text)) found.push("quotes other than « »");
  if (/(^|[\s(])'|'($|[\s).,])/.test(text)) found.push("single quotes used as quotes (an apostrophe is fine)");
  if (text.includes("\u202f")) found.push("U+202F: the catalogue uses U+00A0");
  return found.map((f) => `${f} in ${JSON.stringify(show(text))}`);
}

/** Words the two languages share: a French string may be the English one only
 * when it is made of these. */
const SHARED = new Set(["actions", "centres", "champion", "coach", "date", "district", "exports",
  "messages", "options", "plan", "plans", "points", "score", "section", "sections"]);
/** English words French does not have (the GROW steps among them). */
const ENGLISH = /(?<!\p{L})(the|and|of|to|your|with|for|is|are|not|please|goal|reality|will|check|sign|save|loading|error|review|upload|download|settings|dashboard|feedback|coachee)(?!\p{L})/iu;

describe("French text", () => {
  it("the checker itself tells right from wrong", () => {
    expect(faults("Dernière synchro\u00a0: {when}")).toEqual([]);
    expect(faults("Vérification: faite")).toHaveLength(1);
    expect(faults("Vérification : faite")).toHaveLength(1);
    expect(faults("Bravo !")).toHaveLength(1);
    expect(faults("Bon\u00a0: {n} % et plus")).toHaveLength(1);
    expect(faults("0,3 × % d'actions faites")).toEqual([]);
    expect(faults("« Non applicable\u00a0»")).toHaveLength(1);
    expect(faults("«\u00a0{file}\u00a0» approuvée.")).toEqual([]);
    expect(faults('"{file}" approuvée.')).toHaveLength(1);
    expect(faults("Retour à l'accueil")).toEqual([]);
    expect(faults("Heure\u202f: 10 h")).toHaveLength(2); // the wrong space, and U+202F itself
    expect("Engagement (Will)").toMatch(ENGLISH);
    expect("Objectif (Goal)").toMatch(ENGLISH);
    expect("Engagement (volonté d'agir)").not.toMatch(ENGLISH);
    expect("Tous les districts, à l'heure").not.toMatch(ENGLISH);
  });

  it.each(Object.entries(fr))("%s", (key, text) => {
    expect(faults(text)).toEqual([]);
    expect(text.match(ENGLISH)?.[0] ?? "no English word").toBe("no English word");
    if (text === (en as Record<string, string>)[key]) {
      const words = text.replace(/\{\w+\}/g, "").match(/\p{L}+/gu) ?? [];
      expect(words.filter((w) => !SHARED.has(w.toLowerCase()))).toEqual([]);
    }
  });

  it("has no quotes or colons written in code around French text: they come from the catalogue", () => {
    const src = fileURLToPath(new URL("../../src", import.meta.url));
    const files = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : /\.tsx?$/.test(name) ? [path] : [];
    });
    const catalogues = /[\\/](i18n[\\/](fr|en)|desk[\\/]i18n)\.ts$/;
    const found: string[] = [];
    for (const file of files(src).filter((f) => !catalogues.test(f))) {
      readFileSync(file, "utf-8").split("\n").forEach((line, index) => {
        const code = line.replace(/^\s*(\/\/|\/?\*).*$/, "");
        const where = `${file.slice(src.length + 1)}:${index + 1}`;
        // « » in code are French whatever the language: a catalogue entry picks them.
        if (/[«»]/.test(code)) found.push(`${where}: « » written in code`);
        // A label glued to a value with ": " in a template string of a screen
        // ("`${name}: ${score}`"): French wants a no-break space before the colon, so
        // the colon comes from the catalogue (t("common.colon") or a key of its own).
        if (file.endsWith(".tsx") && /`[^`]*(\}|\p{L})\s?:\s+\$\{[^`]*`/u.test(code)) found.push(`${where}: "label: value" built in code`);
      });
    }
    expect(found).toEqual([]);
  });
});
