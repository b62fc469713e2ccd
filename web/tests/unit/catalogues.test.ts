// Every key in both languages, no empty string, the same {placeholders} on both sides,
// and every key the code asks for exists.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fr } from "../../src/i18n/fr";
import { en } from "../../src/i18n/en";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

describe("catalogues", () => {
  it("have the same keys in French and English", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(fr).sort());
  });

  it.each(Object.keys(fr))("%s is filled in both, with the same placeholders", (key) => {
    const f = (fr as Record<string, string>)[key];
    const e = (en as Record<string, string>)[key];
    expect(f.trim()).not.toBe("");
    expect(e.trim()).not.toBe("");
    expect(placeholders(e)).toEqual(placeholders(f));
  });

  it("hold every key the screens use", () => {
    const src = fileURLToPath(new URL("../../src", import.meta.url));
    const used = new Set<string>();
    for (const file of sources(src)) {
      for (const m of readFileSync(file, "utf-8").matchAll(/\bt\(\s*"([a-z_]+\.[a-z_.]+)"/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter((k) => !(k in fr));
    expect(missing).toEqual([]);
  });
});
