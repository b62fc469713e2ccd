/** The progress and championship views in the reader's language (the API's
 * "unassigned", decimal marks), and the gaps table's order and caption. */
import { describe, expect, it } from "vitest";
import { lang, t } from "../../src/i18n";
import { rowLabel } from "../../src/desk/progress";
import { change, counted, daysToClose, num, pct } from "../../src/desk/format";
import { gapOrder } from "../../src/desk/gaps";

describe("progress and championship, in the reader's language", () => {
  it("names the group of unowned actions instead of showing the API's word", () => {
    lang.value = "fr";
    expect(rowLabel({ key: "unassigned", label: "unassigned" })).toBe("Non attribuée");
    expect(rowLabel({ key: "u-dtc", label: "Fatoumata Diarra" })).toBe("Fatoumata Diarra");
    lang.value = "en";
    expect(rowLabel({ key: "unassigned", label: "unassigned" })).toBe("Unassigned");
    lang.value = "fr";
  });

  it("writes improvements and points with the language's decimal mark", () => {
    lang.value = "fr";
    expect(change(56.6)).toBe("▲ +56,6");
    expect(change(-3.24)).toBe("▼ \u22123,2");
    expect(change(0)).toBe("0");
    expect(num(68.8)).toBe("68,8");
    lang.value = "en";
    expect(change(56.6)).toBe("▲ +56.6");
    expect(num(1.9)).toBe("1.9");
    lang.value = "fr";
  });
});

describe("gaps table", () => {
  it("lists critical visits first, then no score, then the lowest score, and its caption says so", () => {
    const rows = [
      { facility_name: "B", percent: 30, flagged: false },
      { facility_name: "A", percent: 90, flagged: true },
      { facility_name: "C", percent: null, flagged: false },
      { facility_name: "D", percent: 10, flagged: false },
    ];
    expect(gapOrder(rows).map((r) => r.facility_name)).toEqual(["A", "C", "D", "B"]);
    lang.value = "fr";
    const caption = t("desk.gaps.table_caption");
    expect(caption).toMatch(/point critique d'abord/);
    expect(caption).not.toMatch(/les plus faibles d'abord$/);
    lang.value = "en";
    expect(t("desk.gaps.table_caption")).toMatch(/critical item first/);
    lang.value = "fr";
  });
});

describe("progress columns say what they count", () => {
  it("names the open actions (to do, under way, awaiting review) as such", () => {
    lang.value = "fr";
    expect(t("desk.col.open")).toBe("Ouvertes");
    lang.value = "en";
    expect(t("desk.col.open")).toBe("Open");
    lang.value = "fr";
  });

  it("writes a median under a day in words, never a bare 0", () => {
    lang.value = "fr";
    expect(daysToClose(null)).toBe("—");
    expect(daysToClose(0)).toBe("moins d'un jour");
    expect(daysToClose(0.4)).toBe("moins d'un jour");
    expect(daysToClose(1)).toBe("1");
    expect(daysToClose(10.25)).toBe("10,3");
    lang.value = "en";
    expect(daysToClose(0)).toBe("under a day");
    expect(daysToClose(2.2)).toBe("2.2");
    lang.value = "fr";
  });
});

describe("gaps summary and items failed most", () => {
  it("counts an item's failures over the visits whose checklist has it, and says so", () => {
    // All checklists: 14 visits in the summary, 13 of them on checklists with the item.
    lang.value = "fr";
    const summary = counted("desk.count.visits", 14);
    const gap = t("desk.gaps.failures", { times: counted("desk.count.times", 6),
      visits: counted("desk.count.visits_with_item", 13), rate: pct(46.2) });
    expect(summary).toBe("14 visites");
    expect(gap).toMatch(/^6 fois sur 13 visites comportant ce point \(46,2\s%\)$/);
    expect(t("desk.gaps.failures", { times: counted("desk.count.times", 1),
      visits: counted("desk.count.visits_with_item", 1), rate: pct(100) })).toMatch(/^1 fois sur 1 visite comportant ce point/);
    lang.value = "en";
    expect(t("desk.gaps.failures", { times: counted("desk.count.times", 6),
      visits: counted("desk.count.visits_with_item", 13), rate: pct(46.2) })).toMatch(/^6 times in 13 visits with this item \(/);
    expect(counted("desk.count.visits_with_item", 1)).toBe("1 visit with this item");
    lang.value = "fr";
  });
});
