/** The progress and championship views in the reader's language (the API's
 * "unassigned", decimal marks), and the gaps table's order and caption. */
import { describe, expect, it } from "vitest";
import { lang, t } from "../../src/i18n";
import { rowLabel } from "../../src/desk/progress";
import { change, num } from "../../src/desk/format";
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
