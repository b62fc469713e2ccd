// What counts as answered in the visit form: only an answer the server would take.
// An out-of-range number shows an error and keeps the visit from being sent; it must
// not count in "n/49 réponses" nor pull the live score down to a red 0 %.
import { describe, expect, it } from "vitest";
import { isValidAnswer, score, type Template } from "../../src/domain/scoring";
import type { Item } from "../../src/api/types";

const item = (code: string, extra: Partial<Item>): Item => ({
  code, type: "yes_no", points: 1, label_fr: code, label_en: code,
  action: {} as Item["action"], ...extra,
});

const days = item("cc_days", { type: "numeric", valid_range: [0, 30], pass_range: [25, 30], points: 2 });
const fridge = item("cc_fridge", { type: "yes_no", allow_na: false });
const template: Template = { sections: [{ code: "cold_chain", items: [days, fridge] }] };

describe("answered = a valid answer", () => {
  it("does not count an out-of-range number, nor score it", () => {
    const s = score(template, { cc_days: { value: 45 } });
    expect(s.answered).toBe(0);
    expect(s.sections[0].answered).toBe(0);
    expect(s.percent).toBeNull(); // "—", not a red 0 %
    expect(s.colour).toBe("grey");
    expect(isValidAnswer(days, { value: 45 })).toBe(false);
  });

  it("counts and scores it once corrected", () => {
    const s = score(template, { cc_days: { value: 28 }, cc_fridge: { value: "no" } });
    expect(s.answered).toBe(2);
    expect(s.percent).toBeCloseTo(66.7, 1);
    expect(isValidAnswer(days, { value: 28 })).toBe(true);
  });

  it("does not count N/A where the item does not allow it, nor an empty or non-numeric value", () => {
    expect(isValidAnswer(fridge, { value: "na" })).toBe(false);
    expect(isValidAnswer(days, { value: "" })).toBe(false);
    expect(isValidAnswer(days, { value: "abc" })).toBe(false);
    expect(isValidAnswer(days, undefined)).toBe(false);
    expect(score(template, { cc_fridge: { value: "na" } }).answered).toBe(0);
  });
});
