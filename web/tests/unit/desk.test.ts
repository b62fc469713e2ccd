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

describe("desk numbers and plurals", () => {
  it("writes percentages with the language's decimal mark", async () => {
    const { lang } = await import("../../src/i18n");
    const { pct } = await import("../../src/desk/format");
    lang.value = "fr";
    expect(pct(82.1).replace(/\s/g, " ")).toBe("82,1 %");
    expect(pct(null)).toBe("—");
    lang.value = "en";
    expect(pct(82.1)).toBe("82.1%");
    lang.value = "fr";
  });
  it("picks the singular or plural entry for the count", async () => {
    const { lang } = await import("../../src/i18n");
    const { counted } = await import("../../src/desk/format");
    lang.value = "fr";
    expect(counted("desk.count.visits", 1)).toBe("1 visite");
    expect(counted("desk.count.centres_visited", 1)).toBe("1 centre visité");
    expect(counted("desk.count.visits", 2)).toBe("2 visites");
    lang.value = "en";
    expect(counted("desk.count.visits", 1)).toBe("1 visit");
    expect(counted("desk.count.times", 3)).toBe("3 times");
    lang.value = "fr";
  });
});

describe("trend chart time axis", () => {
  it("shows 15 days either side of a lone visit, the data's span otherwise", async () => {
    const { xRange } = await import("../../src/desk/chart/range");
    const t0 = 1_760_000_000;
    expect(xRange(t0, t0)).toEqual([t0 - 15 * 86400, t0 + 15 * 86400]);
    expect(xRange(t0, t0 + 86400 * 40)).toEqual([t0, t0 + 86400 * 40]);
    // Two visits the same day, minutes apart: a month around them, not a span of minutes.
    expect(xRange(t0, t0 + 600)).toEqual([t0 + 300 - 15 * 86400, t0 + 300 + 15 * 86400]);
  });
});
