// The app's live score against the server's scorer: the same answers, the same scores
// (fixtures/scores.json is written by scripts/score_fixture.py with checklist.domain).
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pyRound, score } from "../../src/domain/scoring";
import type { Template } from "../../src/api/types";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const fixture = JSON.parse(readFileSync(here("./fixtures/scores.json"), "utf-8"));
const templates: Record<string, Template> = Object.fromEntries(
  ["pev-integrated", "pev-mini"].map((code) => [
    code,
    JSON.parse(readFileSync(here(`../../../services/checklist/checklist/templates/${code}.json`), "utf-8")),
  ]),
);

describe("live score = server score", () => {
  it("has the 49-item integrated template", () => {
    const items = templates["pev-integrated"].sections.flatMap((s) => s.items);
    expect(items).toHaveLength(49);
    expect(new Set(items.map((i) => i.type))).toEqual(new Set(["yes_no", "numeric", "choice"]));
  });

  for (const c of fixture.cases) {
    it(c.name, () => {
      const got = score(templates[c.template], c.answers);
      const want = c.expected;
      expect(got.percent).toBe(want.percent);
      expect(got.points).toBeCloseTo(want.points, 9);
      expect(got.max_points).toBeCloseTo(want.max_points, 9);
      expect(got.colour).toBe(want.colour);
      expect(got.flagged).toBe(want.flagged);
      expect(got.sections.map((s) => [s.code, s.percent, s.colour, s.effective])).toEqual(
        want.sections.map((s: { code: string; percent: number; colour: string; effective: boolean }) =>
          [s.code, s.percent, s.colour, s.effective]),
      );
    });
  }
});

describe("rounding as Python's round()", () => {
  it.each([
    [12.25, 1, 12.2], [12.75, 1, 12.8], [0.125, 2, 0.12], [0.375, 2, 0.38],
    [2.675, 2, 2.67], [66.66666, 1, 66.7], [50, 1, 50], [0.05, 1, 0.1], [0.15, 1, 0.1],
  ])("round(%d, %d) = %d", (x, d, want) => {
    expect(pyRound(x, d)).toBe(want);
  });
});
