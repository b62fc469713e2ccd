/** The desk on a phone: the tab bar's own row, keyboard hints hidden on touch. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("desk on a phone", () => {
  const css = readFileSync(new URL("../../src/desk/desk.css", import.meta.url), "utf-8");
  it("gives the tab bar a row of its own height, not the stretching one", () => {
    const narrow = css.slice(css.indexOf("@media (max-width: 900px)"));
    expect(narrow.slice(0, narrow.indexOf("\n}"))).toMatch(/grid-template-rows:\s*auto auto 1fr/);
  });
  it("hides keyboard hints where the main pointer is a finger", () => {
    expect(css).toMatch(/@media \(pointer: coarse\) \{[^}]*\.keys-hint[^}]*display: none/);
  });
});
