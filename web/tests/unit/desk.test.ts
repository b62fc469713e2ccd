/** The desk view's plain logic: traffic lights of action follow-up, and the
 * score colour rule used by legends and roll-ups (the server's, checklist.domain.colour). */
import { describe, expect, it } from "vitest";
import { light, byUrgency } from "../../src/desk/progress";
import { colourOf } from "../../src/desk/colours";

const row = (label: string, done: number, open: number, overdue: number) => {
  const owed = done + open;
  return { key: label, label, facility_path: null, done, open, overdue, dropped: 0, total: owed,
    percent_done: owed ? Math.round((1000 * done) / owed) / 10 : 0, median_days_to_close: null };
};

describe("traffic lights", () => {
  it("is red when an action is overdue, whatever else is done", () => {
    expect(light(row("a", 9, 1, 1))).toBe("red");
  });
  it("is red under half done, amber under the goal, green at the goal", () => {
    expect(light(row("a", 1, 3, 0))).toBe("red");
    expect(light(row("a", 3, 2, 0))).toBe("amber");
    expect(light(row("a", 4, 1, 0))).toBe("green");
  });
  it("is grey with nothing owed", () => {
    expect(light(row("a", 0, 0, 0))).toBe("grey");
  });
  it("lists the most urgent first", () => {
    const sorted = byUrgency([row("vert", 5, 0, 0), row("rouge", 1, 4, 2), row("orange", 3, 2, 0),
      row("rouge2", 1, 4, 3), row("gris", 0, 0, 0)]);
    expect(sorted.map((r) => r.label)).toEqual(["rouge2", "rouge", "orange", "vert", "gris"]);
  });
});

describe("score colour", () => {
  const thresholds = { green: 80, amber: 50 };
  it("follows the template's thresholds, bounds included", () => {
    expect([80, 79.9, 50, 49.9, null].map((p) => colourOf(p, thresholds)))
      .toEqual(["green", "amber", "amber", "red", "grey"]);
    expect(colourOf(70, { green: 70, amber: 40 })).toBe("green");
  });
});
